/**
 * Typed refusals mirroring `clients/python/cordon_client/exceptions.py`: same class names, same
 * tree, same messages, plus a stable `code` the UI maps to a plain-language line.
 */

export class CordonCryptoError extends Error {
  /** The Python exception's class name, spelled out so minified bundles keep it. */
  override readonly name: string = "CordonCryptoError";
  /** Stable machine code (e.g. `crypto.signature`) for the UI and support. */
  readonly code: string = "cordon.error";
  /** Why, in words a user can act on (the Python `reason`). */
  get reason(): string {
    return this.message;
  }
}
/** Python: CryptoError. */
export class CryptoError extends CordonCryptoError {
  override readonly name: string = "CryptoError";
  override readonly code: string = "crypto.error";
}
export class MalformedError extends CryptoError {
  override readonly name: string = "MalformedError";
  override readonly code: string = "crypto.malformed";
}
export class UnsupportedVersionError extends MalformedError {
  override readonly name: string = "UnsupportedVersionError";
  override readonly code: string = "crypto.unsupported_version";
}
export class SignatureError extends CryptoError {
  override readonly name: string = "SignatureError";
  override readonly code: string = "crypto.signature";
}
export class UntrustedSenderError extends CryptoError {
  override readonly name: string = "UntrustedSenderError";
  override readonly code: string = "crypto.untrusted_sender";
}
export class UnauthorisedKeyingError extends UntrustedSenderError {
  override readonly name: string = "UnauthorisedKeyingError";
  override readonly code: string = "crypto.unauthorised_keying";
}
export class HistoryGrantError extends UntrustedSenderError {
  override readonly name: string = "HistoryGrantError";
  override readonly code: string = "crypto.history_grant";
}
export class LogError extends CryptoError {
  override readonly name: string = "LogError";
  override readonly code: string = "crypto.log";
}
export class LogRootError extends LogError {
  override readonly name: string = "LogRootError";
  override readonly code: string = "crypto.log_root";
}
export class UnauthorisedEntryError extends LogError {
  override readonly name: string = "UnauthorisedEntryError";
  override readonly code: string = "crypto.unauthorised_entry";
}
export class InjectedMemberError extends UnauthorisedEntryError {
  override readonly name: string = "InjectedMemberError";
  override readonly code: string = "crypto.injected_member";
}
export class InjectedDeviceError extends UnauthorisedEntryError {
  override readonly name: string = "InjectedDeviceError";
  override readonly code: string = "crypto.injected_device";
}
export class LogGapError extends LogError {
  override readonly name: string = "LogGapError";
  override readonly code: string = "crypto.log_gap";
}
export class LogOrderError extends LogError {
  override readonly name: string = "LogOrderError";
  override readonly code: string = "crypto.log_order";
}
export class LogChainError extends LogError {
  override readonly name: string = "LogChainError";
  override readonly code: string = "crypto.log_chain";
}
export class LogRollbackError extends LogError {
  override readonly name: string = "LogRollbackError";
  override readonly code: string = "crypto.log_rollback";
}
export class ForkError extends LogError {
  override readonly name: string = "ForkError";
  override readonly code: string = "crypto.fork";
  constructor(
    message: string,
    readonly seq: number = -1,
    readonly proof: Record<string, unknown> | null = null,
  ) {
    super(message);
  }
}
export class ForkProofError extends LogError {
  override readonly name: string = "ForkProofError";
  override readonly code: string = "crypto.fork_proof";
}
export class TrustError extends CryptoError {
  override readonly name: string = "TrustError";
  override readonly code: string = "crypto.trust";
}
export class BindingError extends TrustError {
  override readonly name: string = "BindingError";
  override readonly code: string = "crypto.binding";
}
export class DeviceKeyMismatchError extends TrustError {
  override readonly name: string = "DeviceKeyMismatchError";
  override readonly code: string = "crypto.device_key_mismatch";
}
export class GroupFrozenError extends TrustError {
  override readonly name: string = "GroupFrozenError";
  override readonly code: string = "crypto.group_frozen";
}
export class EpochMismatchError extends CryptoError {
  override readonly name: string = "EpochMismatchError";
  override readonly code: string = "crypto.epoch_mismatch";
}
export class RoutingMismatchError extends CryptoError {
  override readonly name: string = "RoutingMismatchError";
  override readonly code: string = "crypto.routing_mismatch";
}
export class StaleEpochError extends CryptoError {
  override readonly name: string = "StaleEpochError";
  override readonly code: string = "crypto.stale_epoch";
}
export class ReplayError extends CryptoError {
  override readonly name: string = "ReplayError";
  override readonly code: string = "crypto.replay";
}
export class StaleChainError extends CryptoError {
  override readonly name: string = "StaleChainError";
  override readonly code: string = "crypto.stale_chain";
}
export class KeyUnavailableError extends CryptoError {
  override readonly name: string = "KeyUnavailableError";
  override readonly code: string = "crypto.key_unavailable";
}
export class MissingChainError extends KeyUnavailableError {
  override readonly name: string = "MissingChainError";
  override readonly code: string = "crypto.missing_chain";
  constructor(
    message: string,
    readonly senderDeviceId: string = "",
    readonly chainId: string = "",
    readonly index: number = -1,
  ) {
    super(message);
  }
}
export class SkippedKeyDroppedError extends KeyUnavailableError {
  override readonly name: string = "SkippedKeyDroppedError";
  override readonly code: string = "crypto.skipped_key_dropped";
}
export class ExcludedDeviceError extends CryptoError {
  override readonly name: string = "ExcludedDeviceError";
  override readonly code: string = "crypto.excluded_device";
  constructor(
    readonly deviceId: string,
    readonly memberId: string | null,
    override readonly cause: string,
  ) {
    super(`device ${deviceId} of member ${memberId ?? "None"} left out: ${cause}`);
  }
}
export class PrekeyReuseError extends CryptoError {
  override readonly name: string = "PrekeyReuseError";
  override readonly code: string = "crypto.prekey_reuse";
}
export class DecryptionError extends CryptoError {
  override readonly name: string = "DecryptionError";
  override readonly code: string = "crypto.decryption";
}
export class TruncatedError extends DecryptionError {
  override readonly name: string = "TruncatedError";
  override readonly code: string = "crypto.truncated";
}
export class DocumentKeyConflictError extends CryptoError {
  override readonly name: string = "DocumentKeyConflictError";
  override readonly code: string = "crypto.document_key_conflict";
}
export class CategoryMismatchError extends CryptoError {
  override readonly name: string = "CategoryMismatchError";
  override readonly code: string = "crypto.category_mismatch";
}
export class KeystoreError extends CryptoError {
  override readonly name: string = "KeystoreError";
  override readonly code: string = "crypto.keystore";
}
export class WrongPassphraseError extends KeystoreError {
  override readonly name: string = "WrongPassphraseError";
  override readonly code: string = "crypto.wrong_passphrase";
}
/** Python: `cordon_client.templates.registry.TemplateSignatureError`. */
export class TemplateSignatureError extends CryptoError {
  override readonly name: string = "TemplateSignatureError";
  override readonly code: string = "crypto.template_signature";
}

/** The single refusal every AEAD, HPKE or padding failure becomes (PROTOCOL §7 step 6). */
export function decryptionFailed(): DecryptionError {
  return new DecryptionError("message could not be decrypted");
}
