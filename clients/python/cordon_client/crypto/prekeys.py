"""One-time prekeys, and which prekey a sender seals each wrap to (PROTOCOL.md §3.2–3.3).

A one-time prekey is an X25519 key its device signs, uploads in batches and opens at most once:
the server deletes it when a sender claims it, the device deletes the private half after the
first envelope sealed to it opens. A sender uses a device's claimed one-time prekey when it
verifies, else the device's current signed prekey.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from cordon_client import wire
from cordon_client.crypto._encoding import (
    b64d,
    b64e,
    decode,
    encode,
    fields_to_ints,
    label,
    parse_uuid,
)
from cordon_client.crypto.envelope import Envelope, Recipient, open_wrap
from cordon_client.crypto.keys import SignedPrekey, verify_prekey
from cordon_client.crypto.roster import Roster
from cordon_client.exceptions import (
    CryptoError,
    ExcludedDeviceError,
    KeyUnavailableError,
    MalformedError,
    PrekeyReuseError,
    SignatureError,
    UntrustedSenderError,
)

ONE_TIME_BATCH = 100
REPLENISH_BELOW = 25
KEEP_PRIVATE_MAX = 400
STORE_SECRET = "one-time-prekeys"
LEDGER_SECRET = "one-time-prekeys-used"
_FIELDS = frozenset({"device_id", "prekey_id", "public_key", "sig"})


class PrekeyType(IntEnum):
    """Which kind of prekey a wrap is sealed to (the wrap's first byte, `cordon_client.wire`)."""

    SIGNED = wire.PREKEY_SIGNED
    ONE_TIME = wire.PREKEY_ONE_TIME


def one_time_prekey_signing_input(device_id: uuid.UUID, prekey_id: int, public_key: bytes) -> bytes:
    """What the device key signs for one one-time prekey."""
    return label("one-time-prekey") + encode(device_id, prekey_id, public_key)


@dataclass(frozen=True, slots=True)
class OneTimePrekey:
    """The public half of a one-time prekey as the server stores and serves it."""

    device_id: uuid.UUID
    prekey_id: int
    public_key: bytes
    signature: bytes

    def to_json(self) -> dict[str, object]:
        """The record for the upload and claim routes."""
        return {
            "device_id": str(self.device_id),
            "prekey_id": self.prekey_id,
            "public_key": b64e(self.public_key),
            "sig": b64e(self.signature),
        }

    @classmethod
    def from_json(cls, obj: object, *, what: str = "one-time prekey") -> OneTimePrekey:
        """Parse a served record strictly; errors name the field."""
        if not isinstance(obj, dict) or set(obj) != _FIELDS:
            raise MalformedError(f"{what}: fields must be exactly {sorted(_FIELDS)}")
        pid = obj["prekey_id"]
        if not isinstance(pid, int) or isinstance(pid, bool) or not 0 <= pid < 1 << 32:
            raise MalformedError(f"{what}.prekey_id: expected an integer in 0..2^32-1")
        return cls(
            device_id=parse_uuid(obj["device_id"], what=f"{what}.device_id"),
            prekey_id=pid,
            public_key=b64d(obj["public_key"], length=32, what=f"{what}.public_key"),
            signature=b64d(obj["sig"], length=64, what=f"{what}.sig"),
        )


def make_one_time_prekey(
    device_key: Ed25519PrivateKey,
    device_id: uuid.UUID,
    prekey_id: int,
    *,
    private: X25519PrivateKey | None = None,
) -> tuple[X25519PrivateKey, OneTimePrekey]:
    """Create and sign one one-time prekey."""
    if not 0 <= prekey_id < 1 << 32:
        raise ValueError("prekey_id must fit in u32")
    priv = private or X25519PrivateKey.generate()
    pub = priv.public_key().public_bytes_raw()
    sig = device_key.sign(one_time_prekey_signing_input(device_id, prekey_id, pub))
    return priv, OneTimePrekey(device_id, prekey_id, pub, sig)


def verify_one_time_prekey(
    prekey: OneTimePrekey, device_id: uuid.UUID, device_signing_key: bytes
) -> X25519PublicKey:
    """Accept a served one-time prekey only if it is for that device and its key signed it."""
    if prekey.device_id != device_id:
        raise UntrustedSenderError(
            f"one-time prekey {prekey.prekey_id} of device {device_id}: "
            f"it names device {prekey.device_id}"
        )
    signed = one_time_prekey_signing_input(prekey.device_id, prekey.prekey_id, prekey.public_key)
    try:
        Ed25519PublicKey.from_public_bytes(device_signing_key).verify(prekey.signature, signed)
    except (InvalidSignature, ValueError):
        raise SignatureError(
            f"one-time prekey {prekey.prekey_id} of device {device_id}: signature does not verify"
        ) from None
    return X25519PublicKey.from_public_bytes(prekey.public_key)


@dataclass(slots=True, repr=False)
class OneTimePrekeyStore:
    """This device's unused one-time private halves, kept in the keystore (`STORE_SECRET`).

    Ids only grow (`next_id`), so the server's lowest-first claims reach senders in increasing
    order. At most `KEEP_PRIVATE_MAX` halves are kept; beyond that the lowest ids (claimed long
    ago and never used, or never claimed) are dropped first."""

    next_id: int = 1
    privates: dict[int, X25519PrivateKey] = field(default_factory=dict)
    consumed: int = 0  # used since the owner last topped the server's stock up (not stored)

    def __repr__(self) -> str:
        return f"OneTimePrekeyStore(next_id={self.next_id}, held={len(self.privates)})"

    def generate(
        self, device_key: Ed25519PrivateKey, device_id: uuid.UUID, count: int
    ) -> list[OneTimePrekey]:
        """Make `count` new signed keys (ids from `next_id` on) and keep their private halves."""
        out = []
        for _ in range(count):
            private, public = make_one_time_prekey(device_key, device_id, self.next_id)
            self.privates[self.next_id] = private
            self.next_id += 1
            out.append(public)
        for old in sorted(self.privates)[: max(0, len(self.privates) - KEEP_PRIVATE_MAX)]:
            del self.privates[old]
        return out

    def consume(self, prekey_id: int) -> None:
        """Delete a private half after the first envelope sealed to it has opened."""
        if self.privates.pop(prekey_id, None) is not None:
            self.consumed += 1

    def to_bytes(self) -> bytes:
        """Serialise for the keystore: `enc(next_id, enc(enc(id, private)…))`."""
        items = [encode(pid, k.private_bytes_raw()) for pid, k in sorted(self.privates.items())]
        return encode(self.next_id, encode(*items))

    @classmethod
    def from_bytes(cls, data: bytes) -> OneTimePrekeyStore:
        """Restore what `to_bytes` wrote."""
        f = decode(data)
        if len(f) != 2:
            raise MalformedError("one-time prekey store is malformed")
        store = cls(fields_to_ints([f[0]])[0])
        for item in decode(f[1]):
            pid_raw, private = decode(item)
            if len(private) != 32:
                raise MalformedError("one-time prekey record is malformed")
            store.privates[fields_to_ints([pid_raw])[0]] = X25519PrivateKey.from_private_bytes(
                private
            )
        return store

    @classmethod
    def load(cls, secrets: Mapping[str, bytes]) -> OneTimePrekeyStore:
        """The store kept in the keystore's secrets, or an empty one."""
        raw = secrets.get(STORE_SECRET)
        return cls.from_bytes(raw) if raw else cls()

    def save(self, secrets: MutableMapping[str, bytes]) -> None:
        """Write the store into the keystore's secrets (the caller saves the keystore)."""
        secrets[STORE_SECRET] = self.to_bytes()


@dataclass(slots=True)
class ClaimLedger:
    """The highest one-time prekey id this client has sealed to, per device.

    A device's ids only grow and the server serves the lowest unclaimed one, so a served id at
    or below the one already used means the server handed a key out twice (or out of order):
    the sender refuses it and falls back to the signed prekey."""

    highest: dict[uuid.UUID, int] = field(default_factory=dict)

    def check(self, prekey: OneTimePrekey) -> None:
        """Raise PrekeyReuseError unless the served id is newer than any already used."""
        used = self.highest.get(prekey.device_id)
        if used is not None and prekey.prekey_id <= used:
            raise PrekeyReuseError(
                f"one-time prekey {prekey.prekey_id} of device {prekey.device_id} is not newer "
                f"than one this client already used ({used}): the server served it twice"
            )

    def record(self, prekey: OneTimePrekey) -> None:
        """Remember that a wrap was sealed to this key."""
        self.highest[prekey.device_id] = max(
            prekey.prekey_id, self.highest.get(prekey.device_id, 0)
        )

    def to_bytes(self) -> bytes:
        """Serialise for the keystore: `enc(enc(device_id, id)…)`."""
        return encode(*(encode(d, i) for d, i in sorted(self.highest.items(), key=str)))

    @classmethod
    def from_bytes(cls, data: bytes) -> ClaimLedger:
        """Restore what `to_bytes` wrote."""
        ledger = cls()
        for item in decode(data):
            device, pid = decode(item)
            if len(device) != 16:
                raise MalformedError("one-time prekey ledger is malformed")
            ledger.highest[uuid.UUID(bytes=device)] = fields_to_ints([pid])[0]
        return ledger


@dataclass(frozen=True, slots=True)
class Selection:
    """The recipients to seal to, each served one-time prekey the sender refused (and why),
    and each device left out because none of its prekeys verified."""

    recipients: list[Recipient]
    refusals: list[CryptoError]
    excluded: list[ExcludedDeviceError] = field(default_factory=list)


def choose_prekey(
    roster: Roster,
    device_id: uuid.UUID,
    *,
    claimed: OneTimePrekey | None,
    signed: SignedPrekey | None,
    now_ms: int,
    ledger: ClaimLedger,
) -> tuple[Recipient, CryptoError | None]:
    """The prekey a sender seals this device's wrap to (PROTOCOL §3.3).

    The claimed one-time prekey if it verifies under the device key of the verified roster and
    is newer than any this client used for that device; otherwise the device's signed prekey,
    which must verify and be current. Returns the recipient and the refusal of the one-time
    prekey, if one was served and refused."""
    device = roster.device(device_id)
    if device is None:
        raise UntrustedSenderError(f"device {device_id} is not in the verified roster")
    refusal: CryptoError | None = None
    if claimed is not None:
        try:
            public = verify_one_time_prekey(claimed, device_id, device.signing_key)
            ledger.check(claimed)
        except CryptoError as exc:
            refusal = exc
        else:
            ledger.record(claimed)
            return Recipient(device_id, claimed.prekey_id, public, PrekeyType.ONE_TIME), None
    if signed is None or signed.device_id != device_id:
        raise KeyUnavailableError(f"no usable prekey for device {device_id}")
    public = verify_prekey(signed, device.signing_key, now_ms)
    return Recipient(device_id, signed.prekey_id, public, PrekeyType.SIGNED), refusal


def select_recipients(
    roster: Roster,
    devices: Iterable[uuid.UUID],
    *,
    signed: Mapping[uuid.UUID, SignedPrekey],
    claimed: Mapping[uuid.UUID, OneTimePrekey | None],
    now_ms: int,
    ledger: ClaimLedger,
) -> Selection:
    """`choose_prekey` for each device, in order. A device none of whose prekeys verifies
    (forged, expired, missing) is left out, not the whole send (PROTOCOL §3.3): nothing is
    sealed to it and it is reported in `excluded`. A device outside the roster still raises."""
    recipients: list[Recipient] = []
    refusals: list[CryptoError] = []
    excluded: list[ExcludedDeviceError] = []
    for device_id in devices:
        try:
            recipient, refusal = choose_prekey(
                roster,
                device_id,
                claimed=claimed.get(device_id),
                signed=signed.get(device_id),
                now_ms=now_ms,
                ledger=ledger,
            )
        except (SignatureError, KeyUnavailableError) as exc:
            device = roster.device(device_id)
            member = device.member_id if device is not None else None
            excluded.append(ExcludedDeviceError(device_id, member, exc.reason))
            continue
        recipients.append(recipient)
        if refusal is not None:
            refusals.append(refusal)
    return Selection(recipients, refusals, excluded)


def parse_claim(items: object, requested: Sequence[uuid.UUID]) -> dict[uuid.UUID, OneTimePrekey]:
    """The claim route's answer, strictly: only requested devices, each at most once."""
    if not isinstance(items, list):
        raise MalformedError("claim: items must be a list")
    out: dict[uuid.UUID, OneTimePrekey] = {}
    wanted = set(requested)
    for i, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != {"device_id", "one_time_prekey"}:
            raise MalformedError(f"claim.items[{i}]: expected device_id and one_time_prekey")
        device_id = parse_uuid(item["device_id"], what=f"claim.items[{i}].device_id")
        if device_id not in wanted or device_id in out:
            raise MalformedError(f"claim.items[{i}]: device {device_id} was not asked for once")
        if item["one_time_prekey"] is not None:
            out[device_id] = OneTimePrekey.from_json(
                item["one_time_prekey"], what=f"claim.items[{i}].one_time_prekey"
            )
    return out


def wrap_prekey(env: Envelope, device_id: uuid.UUID) -> tuple[int, int]:
    """(prekey_type, prekey_id) of the prekey this device's wrap was sealed to."""
    wrap = env.wrap_for(device_id)
    if wrap is None:
        raise KeyUnavailableError("this device is not a recipient of the envelope")
    return wrap.prekey_type, wrap.prekey_id


def open_targeted_wrap(
    env: Envelope,
    device_id: uuid.UUID,
    signed_privates: Mapping[int, X25519PrivateKey],
    store: OneTimePrekeyStore | None,
) -> tuple[bytes, int | None]:
    """Open this device's wrap (layout: `cordon_client.wire`); also return the one-time
    prekey id to delete once the envelope has fully verified and decrypted (None for a
    signed prekey)."""

    def private(prekey_type: int, prekey_id: int) -> X25519PrivateKey | None:
        if prekey_type == PrekeyType.ONE_TIME:
            return store.privates.get(prekey_id) if store is not None else None
        return signed_privates.get(prekey_id)

    prekey_type, prekey_id = wrap_prekey(env, device_id)
    key = open_wrap(env, device_id, private)
    return key, prekey_id if prekey_type == PrekeyType.ONE_TIME else None
