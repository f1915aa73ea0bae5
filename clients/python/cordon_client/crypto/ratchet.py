"""Sender-key hash ratchet for group broadcasts (PROTOCOL.md §6)."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field

from cordon_client.crypto._encoding import (
    decode,
    encode,
    fields_to_ints,
    hkdf_sha256,
    hmac_sha256,
    signing_input,
)
from cordon_client.exceptions import (
    KeyUnavailableError,
    MalformedError,
    ReplayError,
    SkippedKeyDroppedError,
)

MAX_SKIP = 2000
MAX_SKIPPED = 2000  # skipped message keys kept per chain; the oldest are dropped first
SKIPPED_MAX_AGE_MS = 7 * 86_400_000  # a skipped key older than this is dropped
ROTATE_AFTER_MS = 7 * 86_400_000
ROTATE_AFTER_MESSAGES = 10_000
_MK_CONST = b"\x01"
_CK_CONST = b"\x02"


def chain_step(chain_key: bytes) -> tuple[bytes, bytes]:
    """Return (MK_i, CK_{i+1}) from CK_i; the old chain key must then be forgotten."""
    return hmac_sha256(chain_key, _MK_CONST), hmac_sha256(chain_key, _CK_CONST)


def _now_ms() -> int:
    return int(time.time() * 1000)


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
    now_ms: int


@dataclass(slots=True)
class ReceiverChain:
    """Another device's chain as received; skipped keys are kept until used, at most
    `MAX_SKIPPED` of them and none older than `SKIPPED_MAX_AGE_MS` (PROTOCOL §6.4).

    `skipped` maps index → (MK, time it was stored); `dropped_below` is one past the highest
    index whose skipped key was dropped, so a late message there fails as dropped, not replayed."""

    chain_id: uuid.UUID
    sender_device_id: uuid.UUID
    next_index: int
    chain_key: bytes = field(repr=False)
    created_ts: int
    epoch_seq: int
    skipped: dict[int, tuple[bytes, int]] = field(default_factory=dict, repr=False)
    dropped_below: int = 0

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

    def derive(self, index: int, now_ms: int | None = None) -> PendingKey:
        """Derive the key for `index` without changing state (so bad input cannot poison it)."""
        now = _now_ms() if now_ms is None else now_ms
        if index < self.next_index:
            kept = self.skipped.get(index)
            if kept is not None and now - kept[1] > SKIPPED_MAX_AGE_MS:
                kept = None
                dropped = True
            else:
                dropped = index < self.dropped_below
            if kept is None and dropped:
                raise SkippedKeyDroppedError(
                    f"message index {index} on this chain: its skipped key was dropped "
                    f"(at most {MAX_SKIPPED} are kept per chain, for at most 7 days)"
                )
            if kept is None:
                raise ReplayError(f"message index {index} on this chain was already used")
            key, nonce = message_key(kept[0], self.chain_id, index)
            return PendingKey(index, key, nonce, self.next_index, self.chain_key, (), now)
        if index - self.next_index > MAX_SKIP:
            raise KeyUnavailableError(f"message index {index} is more than {MAX_SKIP} ahead")
        ck, skipped = self.chain_key, []
        for i in range(self.next_index, index):
            mk, ck = chain_step(ck)
            skipped.append((i, mk))
        mk, ck = chain_step(ck)
        key, nonce = message_key(mk, self.chain_id, index)
        return PendingKey(index, key, nonce, index + 1, ck, tuple(skipped), now)

    def commit(self, pending: PendingKey) -> None:
        """Advance after a successful decryption, delete the used key, then drop skipped keys
        past the age bound and, oldest first, past the count bound."""
        self.skipped.pop(pending.index, None)
        self.skipped.update((i, (mk, pending.now_ms)) for i, mk in pending.new_skipped)
        self.next_index = pending.next_index
        self.chain_key = pending.chain_key
        self.evict(pending.now_ms)

    def evict(self, now_ms: int) -> list[int]:
        """Drop skipped keys older than 7 days, then the lowest indices beyond 2,000 kept.

        `skipped` is in insertion order, which is index order and storage-time order, so the
        oldest key is always first and eviction costs only what it drops."""
        gone: list[int] = []
        while self.skipped:
            index = next(iter(self.skipped))
            stored = self.skipped[index][1]
            if len(self.skipped) <= MAX_SKIPPED and now_ms - stored <= SKIPPED_MAX_AGE_MS:
                break
            del self.skipped[index]
            self.dropped_below = max(self.dropped_below, index + 1)
            gone.append(index)
        return gone

    def to_bytes(self) -> bytes:
        """Serialise for the keystore and for history transfer to the member's new device."""
        skipped = [encode(i, mk, ts) for i, (mk, ts) in sorted(self.skipped.items())]
        return encode(
            self.chain_id,
            self.sender_device_id,
            self.next_index,
            self.chain_key,
            self.created_ts,
            self.epoch_seq,
            encode(*skipped),
            self.dropped_below,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ReceiverChain:
        """Restore from the keystore or a history transfer."""
        f = decode(data)
        if len(f) != 8 or len(f[0]) != 16 or len(f[1]) != 16 or len(f[3]) != 32:
            raise MalformedError("receiver chain record is malformed")
        nxt, created, epoch, dropped = fields_to_ints([f[2], f[4], f[5], f[7]])
        skipped: dict[int, tuple[bytes, int]] = {}
        for item in decode(f[6]):
            triple = decode(item)
            if len(triple) != 3 or len(triple[1]) != 32:
                raise MalformedError("skipped key record is malformed")
            index, stored = fields_to_ints([triple[0], triple[2]])
            if index >= nxt or index in skipped:
                raise MalformedError("skipped key record is malformed")
            skipped[index] = (triple[1], stored)
        if len(skipped) > MAX_SKIPPED:
            raise MalformedError("receiver chain holds more skipped keys than allowed")
        return cls(
            uuid.UUID(bytes=f[0]),
            uuid.UUID(bytes=f[1]),
            nxt,
            f[3],
            created,
            epoch,
            skipped,
            dropped,
        )
