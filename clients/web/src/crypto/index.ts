/**
 * Cordon's protocol (docs/PROTOCOL.md, version 2) for the browser: no UI imports, no I/O.
 * Module ↔ PROTOCOL section map: clients/web/README.md ("The crypto package").
 */

export * from "./authority";
export * from "./bytes";
export * from "./canonical";
export * from "./documents";
export * from "./encoding";
export * from "./envelope";
export * from "./errors";
export * from "./invite";
export * from "./keys";
export * from "./keystore";
export * from "./labels";
export * from "./log";
export * from "./prekeys";
export * from "./primitives";
export * from "./ratchet";
export * from "./roster";
export * from "./seal";
export * from "./session";
