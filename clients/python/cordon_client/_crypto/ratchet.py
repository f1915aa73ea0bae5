"""Sender-key hash ratchet for group broadcasts (PROTOCOL.md §6)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field

from cordon_client._crypto._encoding import (
    decode,
    encode,
    fields_to_ints,
    hkdf_sha256,
    hmac_sha256,
    signing_input,
)
from cordon_client.exceptions import KeyUnavailableError, MalformedError, ReplayError

MAX_SKIP = 2000
ROTATE_AFTER_MS = 7 * 86_400_000
ROTATE_AFTER_MESSAGES = 10_000
_MK_CONST = b"\x01"
_CK_CONST = b"\x02"


def chain_step(chain_key: bytes) -> tuple[bytes, bytes]:
    """Return (MK_i, CK_{i+1}) from CK_i; the old chain key must then be forgotten."""
    return hmac_sha256(chain_key, _MK_CONST), hmac_sha256(chain_key, _CK_CONST)


def message_key(mk: bytes, chain_id: uuid.UUID, index: int) -> tuple[bytes, bytes]:
    """Expand MK_i into an AES-256 key and a 12-byte nonce bound to chain and index."""
    okm = hkdf_sha256(mk, salt=b"", info=signing_input("msg-key", chain_id, index), length=44)
    return okm[:32], okm[32:]


@dataclass(slots=True)
class SenderChain:
    """This device's own chain; each send consumes one index and deletes the key behind it.

    For re-sharing to a receiver that lost the distribution (KEY_REQUEST, PROTOCOL.md §6.3)
    the chain also keeps the key at `start_index`, at most MAX_SKIP steps behind `index`:
    the window a receiver could derive forward anyway."""

    chain_id: uuid.UUID
    owner_device_id: uuid.UUID
    index: int
    chain_key: bytes = field(repr=False)
    created_ts: int
    epoch_seq: int
    start_index: int = -1
    start_key: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        if self.start_index < 0:
            self.start_index, self.start_key = self.index, self.chain_key

    @classmethod
    def new(cls, owner_device_id: uuid.UUID, now_ms: int, epoch_seq: int) -> SenderChain:
        """Start a fresh random chain at index 0 for the roster at `epoch_seq`."""
        return cls(uuid.uuid4(), owner_device_id, 0, os.urandom(32), now_ms, epoch_seq)

    def next_key(self) -> tuple[int, bytes, bytes]:
        """Return (index, key, nonce) for the next message and advance past it."""
        if self.index >= 1 << 32:
            raise KeyUnavailableError("sender chain exhausted; rotate")
        mk, self.chain_key = chain_step(self.chain_key)
        index = self.index
        self.index += 1
        if self.index - self.start_index > MAX_SKIP:
            _, self.start_key = chain_step(self.start_key)
            self.start_index += 1
        key, nonce = message_key(mk, self.chain_id, index)
        return index, key, nonce

    def share_from(self, index: int) -> bytes | None:
        """SENDER_KEY content starting at `index` (or at the current index if that is later),
        or None if the key for `index` is no longer held (then a fresh chain is needed)."""
        if index >= self.index:
            return self.distribution()
        if index < self.start_index:
            return None
        ck = self.start_key
        for _ in range(index - self.start_index):
            _, ck = chain_step(ck)
        return encode(self.chain_id, index, ck, self.created_ts)

    def needs_rotation(self, *, now_ms: int, last_removal_seq: int) -> bool:
        """Rotate after any removal since creation, after 7 days, or after 10,000 messages."""
        return (
            last_removal_seq > self.epoch_seq
            or now_ms - self.created_ts >= ROTATE_AFTER_MS
            or self.index >= ROTATE_AFTER_MESSAGES
        )

    def distribution(self) -> bytes:
        """Content of the SENDER_KEY targeted message that hands this chain to one device."""
        return encode(self.chain_id, self.index, self.chain_key, self.created_ts)

    def to_bytes(self) -> bytes:
        """Serialise for the keystore."""
        return encode(
            self.chain_id,
            self.owner_device_id,
            self.index,
            self.chain_key,
            self.created_ts,
            self.epoch_seq,
            self.start_index,
            self.start_key,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SenderChain:
        """Restore from the keystore."""
        f = decode(data)
        if len(f) != 8 or len(f[0]) != 16 or len(f[1]) != 16 or len(f[3]) != 32:
            raise MalformedError("sender chain record is malformed")
        if len(f[7]) != 32:
            raise MalformedError("sender chain record is malformed")
        index, created, epoch, start = fields_to_ints([f[2], f[4], f[5], f[6]])
        if not index - MAX_SKIP <= start <= index:
            raise MalformedError("sender chain record is malformed")
        owner = uuid.UUID(bytes=f[1])
        return cls(uuid.UUID(bytes=f[0]), owner, index, f[3], created, epoch, start, f[7])


@dataclass(frozen=True, slots=True)
class PendingKey:
    """A derived key that is committed to the chain only after its message authenticates."""

    index: int
    key: bytes = field(repr=False)
    nonce: bytes = field(repr=False)
    next_index: int
    chain_key: bytes = field(repr=False)
    new_skipped: tuple[tuple[int, bytes], ...] = field(repr=False)


@dataclass(slots=True)
class ReceiverChain:
    """Another device's chain as received; skipped keys are kept (bounded) until used."""

    chain_id: uuid.UUID
    sender_device_id: uuid.UUID
    next_index: int
    chain_key: bytes = field(repr=False)
    created_ts: int
    epoch_seq: int
    skipped: dict[int, bytes] = field(default_factory=dict, repr=False)

    @classmethod
    def from_distribution(
        cls, content: bytes, sender_device_id: uuid.UUID, epoch_seq: int
    ) -> ReceiverChain:
        """Install a chain from a verified SENDER_KEY message; the sender owns the chain."""
        f = decode(content)
        if len(f) != 4 or len(f[0]) != 16 or len(f[2]) != 32:
            raise MalformedError("sender key distribution is malformed")
        index, created = fields_to_ints([f[1], f[3]])
        return cls(uuid.UUID(bytes=f[0]), sender_device_id, index, f[2], created, epoch_seq)

    def derive(self, index: int) -> PendingKey:
        """Derive the key for `index` without changing state (so bad input cannot poison it)."""
        if index < self.next_index:
            mk = self.skipped.get(index)
            if mk is None:
                raise ReplayError(f"message index {index} on this chain was already used")
            key, nonce = message_key(mk, self.chain_id, index)
            return PendingKey(index, key, nonce, self.next_index, self.chain_key, ())
        if index - self.next_index > MAX_SKIP:
            raise KeyUnavailableError(f"message index {index} is more than {MAX_SKIP} ahead")
        ck, skipped = self.chain_key, []
        for i in range(self.next_index, index):
            mk, ck = chain_step(ck)
            skipped.append((i, mk))
        mk, ck = chain_step(ck)
        key, nonce = message_key(mk, self.chain_id, index)
        return PendingKey(index, key, nonce, index + 1, ck, tuple(skipped))

    def commit(self, pending: PendingKey) -> None:
        """Advance after a successful decryption and delete the used key."""
        self.skipped.pop(pending.index, None)
        self.skipped.update(pending.new_skipped)
        while len(self.skipped) > MAX_SKIP:
            del self.skipped[min(self.skipped)]
        self.next_index = pending.next_index
        self.chain_key = pending.chain_key

    def to_bytes(self) -> bytes:
        """Serialise for the keystore and for history transfer to the member's new device."""
        skipped = [encode(i, mk) for i, mk in sorted(self.skipped.items())]
        return encode(
            self.chain_id,
            self.sender_device_id,
            self.next_index,
            self.chain_key,
            self.created_ts,
            self.epoch_seq,
            encode(*skipped),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ReceiverChain:
        """Restore from the keystore or a history transfer."""
        f = decode(data)
        if len(f) != 7 or len(f[0]) != 16 or len(f[1]) != 16 or len(f[3]) != 32:
            raise MalformedError("receiver chain record is malformed")
        nxt, created, epoch = fields_to_ints([f[2], f[4], f[5]])
        skipped: dict[int, bytes] = {}
        for item in decode(f[6]):
            pair = decode(item)
            if len(pair) != 2 or len(pair[1]) != 32:
                raise MalformedError("skipped key record is malformed")
            skipped[fields_to_ints([pair[0]])[0]] = pair[1]
        return cls(uuid.UUID(bytes=f[0]), uuid.UUID(bytes=f[1]), nxt, f[3], created, epoch, skipped)
