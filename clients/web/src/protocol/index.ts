/** The session layer over the crypto package: log sync and persisted heads (no UI imports). */

export * from "./loghead";
export * from "./logsync";
export * from "./receipts";
export * from "./items";
