/**
 * The signed-workflow record layer shared by seizure cases and pre-notifications, as the Python
 * SDK's `cordon_client/records` (and `templates/registry.py`): templates and validation,
 * decoding and folding decrypted items into cases and pre-notifications, the pre-notification
 * workflow, and the local archive. No UI imports.
 */
export * from "./incoming";
export * from "./store";
export * from "./templates";
export * from "./view";
export * from "./workflow";
