"""Exceptions raised by the Cordon client.

Tree::

    CordonClientError
     +-- ApiError                the server answered with a problem document (carries its `code`)
     +-- UnknownIdError          a typed id, prefix, seq or name matches nothing, or several
     +-- RealtimeError           the live connection was refused for good (carries its close `code`)
     +-- CryptoError             something a peer or the server sent failed verification
          +-- MalformedError         bytes or JSON are not structurally valid
          |    +-- UnsupportedVersionError   a version number this client does not speak
          +-- SignatureError         a signature does not verify
          +-- UntrustedSenderError   a valid signature from a key the roster does not allow here
          |    +-- UnauthorisedKeyingError  a document key or manifest not from a coordinator
          |    +-- HistoryGrantError     a history grant the verified log does not back
          +-- LogError               the signed membership log is not a valid chain from the root
          |    +-- LogRootError          genesis is not signed by the pinned coordinator key
          |    +-- UnauthorisedEntryError  an entry has a bad signature or an unauthorised signer
          |    |    +-- InjectedMemberError   ... and it adds a member
          |    |    +-- InjectedDeviceError   ... and it adds a device
          |    +-- LogGapError           an entry is missing (seq gap): an entry was dropped
          |    +-- LogOrderError         entries are out of order
          |    +-- LogChainError         `prev` does not match the previous entry's hash
          |    +-- LogRollbackError      the log ends before a head this client already saw
          |    +-- ForkError             two different signed entries share one `seq`
          |    +-- ForkProofError        a fork proof does not prove a fork
          +-- TrustError             no pinned root, an uncertified member or device, or a
          |    |                     fingerprint or key that does not match what was expected
          |    +-- BindingError          a key not bound by an invitation, link code or fingerprint
          |    +-- DeviceKeyMismatchError  the log certifies another key for this device's id
          |    +-- GroupFrozenError      a fork was detected; the group is frozen on this device
          +-- EpochMismatchError     the envelope names a roster head this client does not hold
          +-- RoutingMismatchError   the server's routing copy (kind, urgent, parent_seq, a
          |                          receipt's item) disagrees with what the sender signed
          +-- StaleEpochError        the envelope names a known head outside the grace window
          +-- ReplayError            a duplicate or replayed envelope
          +-- StaleChainError        a broadcast uses a sender chain that predates a removal
          +-- KeyUnavailableError    the needed key is unknown, expired, deleted or too far ahead
          |    +-- MissingChainError     a broadcast on a sender chain this device never received
          |    +-- SkippedKeyDroppedError  a skipped message key was evicted (count or age bound)
          +-- PrekeyReuseError       the server served a one-time prekey this client already used
          +-- DecryptionError        authenticated decryption failed (one error for every cause)
          |    +-- TruncatedError        a STREAM document ends before its final segment
          +-- DocumentKeyConflictError  a second, different key for a document version held
          +-- CategoryMismatchError  the server's document category differs from the signed one
          +-- KeystoreError          the keystore file cannot be read or written
               +-- WrongPassphraseError  the passphrase does not open the keystore
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


class CordonClientError(Exception):
    """Base of every error the client raises on purpose."""


class UnknownIdError(CordonClientError):
    """An id typed short (a prefix, a seq, a username) that matches no item or several."""


class ApiError(CordonClientError):
    """The server refused a request; `code` is the server's stable problem code."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail

    @classmethod
    def raise_for(cls, response: "httpx.Response") -> None:
        """Raise for a 4xx/5xx response, carrying its problem document's code and detail."""
        if response.status_code < 400:
            return
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        raise cls(
            response.status_code,
            str(problem.get("code", f"http.{response.status_code}")),
            str(problem.get("detail", response.reason_phrase)),
        )


class RealtimeError(CordonClientError):
    """The server no longer accepts this device's live connection; `code` is the close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"live connection closed ({code}): {reason}")
        self.code = code
        self.reason = reason


class CryptoError(CordonClientError):
    """Verification or decryption failed; `reason` says why in words a user can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedError(CryptoError):
    """Input is not structurally valid, so nothing in it can be trusted or acted on."""


class UnsupportedVersionError(MalformedError):
    """Input uses a protocol version this client does not implement."""


class SignatureError(CryptoError):
    """A signature does not verify, so the data was forged or altered."""


class UntrustedSenderError(CryptoError):
    """The signer is not allowed by the verified roster to send this."""


class LogError(CryptoError):
    """The membership log is not a valid signed hash chain from the pinned root."""


class LogRootError(LogError):
    """The log does not start with a genesis entry signed by the pinned coordinator key."""


class UnauthorisedEntryError(LogError):
    """An entry's signature is invalid or its signer may not make that change."""


class InjectedMemberError(UnauthorisedEntryError):
    """Someone other than a coordinator tried to add a member."""


class InjectedDeviceError(UnauthorisedEntryError):
    """Someone other than the member (or a coordinator) tried to add a device."""


class LogGapError(LogError):
    """An entry is missing from the log: it was dropped or withheld."""


class LogOrderError(LogError):
    """Entries arrive out of order: the log was reordered."""


class LogChainError(LogError):
    """An entry's `prev` is not the hash of its predecessor: the chain was altered."""


class LogRollbackError(LogError):
    """The log ends before a head this client has already verified: entries are withheld."""


class ForkError(LogError):
    """Two different validly signed entries share a `seq`: the log was forked."""

    def __init__(
        self,
        reason: str,
        seq: int = -1,
        evidence: tuple[object, object] | None = None,
        proof: dict[str, object] | None = None,
    ):
        super().__init__(reason)
        self.seq = seq
        self.evidence = evidence
        self.proof = proof


class EpochMismatchError(CryptoError):
    """The envelope names a roster head this client does not hold; fetch and verify the log."""

    def __init__(self, reason: str, epoch_id: bytes = b"") -> None:
        super().__init__(reason)
        self.epoch_id = epoch_id


class RoutingMismatchError(CryptoError):
    """The server's routing copy of an item disagrees with the sender's signed labels."""


class StaleEpochError(CryptoError):
    """The envelope names a known but too old head (outside the grace window, or before a
    removal): its sender worked from an outdated roster."""

    def __init__(self, reason: str, epoch_id: bytes = b"") -> None:
        super().__init__(reason)
        self.epoch_id = epoch_id


class ForkProofError(LogError):
    """A claimed fork proof does not prove a fork of this group's log."""


class ReplayError(CryptoError):
    """The envelope was already accepted once."""


class StaleChainError(CryptoError):
    """A broadcast uses a sender chain created before a removal; the sender must rotate."""


class KeyUnavailableError(CryptoError):
    """The key needed is unknown, expired, deleted or beyond the allowed skip."""


class ExcludedDeviceError(CryptoError):
    """A recipient device was left out of a send: its served prekey did not verify against the
    roster (forged, expired or missing), so nothing was sealed to it (PROTOCOL §3)."""

    def __init__(self, device_id: object, member_id: object, cause: str) -> None:
        super().__init__(f"device {device_id} of member {member_id} left out: {cause}")
        self.device_id = device_id
        self.member_id = member_id
        self.cause = cause


class MissingChainError(KeyUnavailableError):
    """A broadcast on a chain this device does not hold; it may ask the owner (KEY_REQUEST)."""

    def __init__(self, reason: str, sender_device_id: object, chain_id: object, index: int):
        super().__init__(reason)
        self.sender_device_id = sender_device_id
        self.chain_id = chain_id
        self.index = index


class SkippedKeyDroppedError(KeyUnavailableError):
    """The message's key was skipped and then dropped (over 2,000 kept or older than 7 days)."""


class PrekeyReuseError(CryptoError):
    """A served one-time prekey is one this client already sealed to: the server reused it."""


class DecryptionError(CryptoError):
    """Authenticated decryption failed; causes are collapsed so nothing leaks."""


class TruncatedError(DecryptionError):
    """A STREAM document ended before its final segment."""


class KeystoreError(CryptoError):
    """The keystore file is missing, corrupt or cannot be written safely."""


class WrongPassphraseError(KeystoreError):
    """The passphrase does not open this keystore."""


class TrustError(CryptoError):
    """The chain of trust is incomplete or contradicts what the user confirmed out of band."""


class BindingError(TrustError):
    """A key is not bound by the out-of-band step (invitation, link code or fingerprint)."""


class DeviceKeyMismatchError(TrustError):
    """The verified log certifies, for this device's id, a signing key that is not its own."""


class GroupFrozenError(TrustError):
    """A fork of the group's log was detected; nothing is sent or accepted until resolved."""


class UnauthorisedKeyingError(UntrustedSenderError):
    """A document key, library grant or manifest comes from a device that was not a
    coordinator's in the verified log at the head it names (PROTOCOL.md §8)."""


class DocumentKeyConflictError(CryptoError):
    """A second, different key for a document version this device already holds a key for."""


class CategoryMismatchError(CryptoError):
    """The server's document category differs from the one signed in the manifest."""


class HistoryGrantError(UntrustedSenderError):
    """A history grant that the verified log does not back (no logged grant, sender not a
    coordinator, scope not granted) or whose items do not verify (PROTOCOL.md §9)."""
