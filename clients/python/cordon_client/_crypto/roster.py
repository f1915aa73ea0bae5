"""Verify the membership log from the pinned root and derive the roster (PROTOCOL.md §4.4)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cordon_client._crypto._encoding import b64d, encode, label, sha256
from cordon_client._crypto.keys import verify_sig
from cordon_client._crypto.log import COORDINATOR_OPS, LOG_VERSION, ZERO_HASH, LogEntry
from cordon_client.exceptions import (
    ForkError,
    InjectedDeviceError,
    InjectedMemberError,
    LogChainError,
    LogError,
    LogGapError,
    LogOrderError,
    LogRollbackError,
    LogRootError,
    SignatureError,
    UnauthorisedEntryError,
    UnsupportedVersionError,
)


@dataclass(frozen=True, slots=True)
class Device:
    """A device certified by its member's key; only these may send or receive keys."""

    device_id: uuid.UUID
    member_id: uuid.UUID
    signing_key: bytes


@dataclass(frozen=True, slots=True)
class Member:
    """A member certified by a coordinator, with role, current key and devices."""

    member_id: uuid.UUID
    role: str
    member_key: bytes
    devices: Mapping[uuid.UUID, Device]
    history_scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Roster:
    """The verified state at the log head; everything a client trusts comes from here."""

    group_id: uuid.UUID
    root_key: bytes
    members: Mapping[uuid.UUID, Member]
    entries: tuple[LogEntry, ...]
    removal_seqs: tuple[int, ...]
    _epochs: dict[bytes, int] = field(default_factory=dict, compare=False, repr=False)
    _devices: dict[uuid.UUID, Device] = field(default_factory=dict, compare=False, repr=False)

    @property
    def head_seq(self) -> int:
        """Sequence number of the head entry."""
        return len(self.entries) - 1

    @property
    def epoch_id(self) -> bytes:
        """SHA-256 of the head entry; every envelope carries it."""
        return self.entries[-1].entry_hash()

    def epoch_seq(self, epoch_id: bytes) -> int | None:
        """Seq of the entry whose hash is `epoch_id`, or None if this log never had that head."""
        if not self._epochs:
            self._epochs.update((e.entry_hash(), e.seq) for e in self.entries)
        return self._epochs.get(epoch_id)

    def device(self, device_id: uuid.UUID) -> Device | None:
        """The certified device with this id, or None if it is not (or no longer) in the roster."""
        if not self._devices:
            self._devices.update(
                (d, dev) for m in self.members.values() for d, dev in m.devices.items()
            )
        return self._devices.get(device_id)

    def devices(self) -> list[Device]:
        """Every certified device, ordered by id for determinism."""
        out = [d for m in self.members.values() for d in m.devices.values()]
        return sorted(out, key=lambda d: d.device_id.bytes)

    def removed_between(self, after_seq: int, upto_seq: int) -> bool:
        """True if a member removal or device revocation lies in (after_seq, upto_seq]."""
        return any(after_seq < s <= upto_seq for s in self.removal_seqs)

    def digest(self) -> bytes:
        """Canonical hash of the roster, committed to by `checkpoint` entries."""
        return roster_digest(self.members)


def roster_digest(members: Mapping[uuid.UUID, Member]) -> bytes:
    """Hash members, roles, keys and devices in id order (label `roster`)."""
    parts: list[bytes] = []
    for mid in sorted(members, key=lambda u: u.bytes):
        m = members[mid]
        ids = sorted(m.devices, key=lambda u: u.bytes)
        devs = [encode(d, m.devices[d].signing_key) for d in ids]
        parts.append(encode(mid, m.role, m.member_key, *devs))
    return sha256(label("roster"), encode(*parts))


class _State:
    """Mutable roster under construction while entries are applied in order."""

    def __init__(self, root_key: bytes) -> None:
        self.root_key = root_key
        self.members: dict[uuid.UUID, Member] = {}
        self.retired_devices: set[uuid.UUID] = set()
        self.removals: list[int] = []

    def coordinator_keys(self) -> set[bytes]:
        return {self.root_key} | {
            m.member_key for m in self.members.values() if m.role == "coordinator"
        }

    def member(self, entry: LogEntry) -> Member:
        mid = uuid.UUID(entry.body["member_id"])
        found = self.members.get(mid)
        if found is None:
            raise LogError(f"seq {entry.seq}: {entry.op} names unknown member {mid}")
        return found

    def replace(self, old: Member, **changes: object) -> None:
        values: dict[str, object] = {
            "member_id": old.member_id,
            "role": old.role,
            "member_key": old.member_key,
            "devices": old.devices,
            "history_scopes": old.history_scopes,
        }
        values.update(changes)
        self.members[old.member_id] = Member(**values)  # type: ignore[arg-type]


def _unauthorised(entry: LogEntry, why: str) -> UnauthorisedEntryError:
    """Pick the most specific error so injected members and devices are named as such."""
    msg = f"seq {entry.seq} ({entry.op}): {why}"
    if entry.op == "add_member":
        return InjectedMemberError("injected member rejected: " + msg)
    if entry.op == "add_device":
        return InjectedDeviceError("injected device rejected: " + msg)
    return UnauthorisedEntryError(msg)


def _authorise(state: _State, entry: LogEntry) -> None:
    """Check the signer may make this change at the current head."""
    if entry.op == "genesis":
        raise _unauthorised(entry, "a second genesis entry")
    coordinators = state.coordinator_keys()
    if entry.op in COORDINATOR_OPS:
        if entry.signer not in coordinators:
            raise _unauthorised(entry, "signer is not a coordinator key")
        return
    member = state.member(entry) if uuid.UUID(entry.body["member_id"]) in state.members else None
    if member is None:
        raise _unauthorised(entry, "names a member who is not in the roster")
    allowed = {member.member_key}
    if entry.op == "revoke_device":
        allowed |= coordinators
    if entry.signer not in allowed:
        raise _unauthorised(entry, "signer is not the member's key")


def _apply(state: _State, entry: LogEntry) -> None:
    """Apply an authorised entry, rejecting changes that make no sense at this head."""
    op, body, seq = entry.op, entry.body, entry.seq
    if op == "add_member":
        mid = uuid.UUID(body["member_id"])
        if mid in state.members:
            raise LogError(f"seq {seq}: member {mid} is already in the group")
        key = b64d(body["member_key"], length=32)
        state.members[mid] = Member(mid, body["role"], key, {}, frozenset())
    elif op == "remove_member":
        member = state.member(entry)
        state.retired_devices |= set(member.devices)
        del state.members[member.member_id]
        state.removals.append(seq)
    elif op == "set_role":
        state.replace(state.member(entry), role=body["role"])
    elif op == "grant_history":
        member = state.member(entry)
        state.replace(member, history_scopes=member.history_scopes | {body["scope"]})
    elif op == "checkpoint":
        if b64d(body["roster_hash"], length=32) != roster_digest(state.members):
            raise LogError(f"seq {seq}: checkpoint does not match the computed roster")
    elif op == "add_device":
        member, did = state.member(entry), uuid.UUID(body["device_id"])
        if did in state.retired_devices or any(did in m.devices for m in state.members.values()):
            raise InjectedDeviceError(f"seq {seq}: device {did} was already used in this group")
        dev = Device(did, member.member_id, b64d(body["device_key"], length=32))
        state.replace(member, devices={**member.devices, did: dev})
    elif op == "revoke_device":
        member, did = state.member(entry), uuid.UUID(body["device_id"])
        if did not in member.devices:
            raise LogError(f"seq {seq}: device {did} is not a device of member {member.member_id}")
        state.retired_devices.add(did)
        state.replace(member, devices={k: v for k, v in member.devices.items() if k != did})
        state.removals.append(seq)
    elif op == "rotate_member_key":
        state.replace(state.member(entry), member_key=b64d(body["member_key"], length=32))


def _check_position(entries: Sequence[LogEntry], idx: int) -> None:
    """Tell a dropped entry from reordered or duplicated ones when `seq` is not the index."""
    entry = entries[idx]
    if entry.seq > idx:
        if any(e.seq == idx for e in entries[idx + 1 :]):
            raise LogOrderError(f"entry seq {entry.seq} arrived before seq {idx}: log reordered")
        raise LogGapError(f"entry seq {idx} is missing (next is {entry.seq}): an entry was dropped")
    earlier = entries[entry.seq]
    if earlier.entry_hash() == entry.entry_hash():
        raise LogOrderError(f"entry seq {entry.seq} appears twice")
    try:
        verify_sig(entry.signer, entry.sig, entry.signed_bytes(), what=f"log entry {entry.seq}")
    except SignatureError:
        raise LogOrderError(f"entry at position {idx} carries stale seq {entry.seq}") from None
    raise ForkError(
        f"two different signed entries claim seq {entry.seq}: the log is forked",
        entry.seq,
        (earlier, entry),
    )


def verify_log(
    root_key: bytes,
    group_id: uuid.UUID,
    entries: Sequence[LogEntry],
    *,
    known_head: tuple[int, bytes] | None = None,
) -> Roster:
    """Verify every link from the pinned root and return the roster at the head."""
    if not entries:
        raise LogRootError("the log is empty")
    state = _State(root_key)
    prev_hash, prev_ts = ZERO_HASH, 0
    for idx, entry in enumerate(entries):
        if entry.v != LOG_VERSION:
            raise UnsupportedVersionError(f"log entry {idx} has version {entry.v}")
        if entry.group_id != group_id:
            raise LogError(f"entry seq {entry.seq} belongs to group {entry.group_id}")
        if entry.seq != idx:
            _check_position(entries, idx)
        if entry.prev != prev_hash:
            raise LogChainError(f"entry seq {idx}: prev does not match the previous entry's hash")
        if idx == 0:
            if entry.op != "genesis" or entry.signer != root_key:
                raise LogRootError("genesis is not signed by the pinned coordinator key")
            if b64d(entry.body["root_key"], length=32) != root_key:
                raise LogRootError("genesis names a different root key")
        else:
            _authorise(state, entry)
        try:
            verify_sig(entry.signer, entry.sig, entry.signed_bytes(), what=f"log entry {idx}")
        except SignatureError as exc:
            if idx == 0:
                raise LogRootError("genesis signature does not verify") from exc
            raise _unauthorised(entry, "signature does not verify") from exc
        if entry.ts < prev_ts:
            raise LogOrderError(f"entry seq {idx}: timestamp goes backwards")
        if idx:
            _apply(state, entry)
        prev_hash, prev_ts = entry.entry_hash(), entry.ts
    roster = Roster(group_id, root_key, dict(state.members), tuple(entries), tuple(state.removals))
    if known_head is not None:
        _check_known_head(roster, *known_head)
    return roster


def _check_known_head(roster: Roster, seq: int, epoch_id: bytes) -> None:
    """A log that drops or rewrites a head we already verified is withholding or forked."""
    if seq > roster.head_seq:
        raise LogRollbackError(
            f"the log ends at seq {roster.head_seq} but this client already saw seq {seq}"
        )
    if roster.entries[seq].entry_hash() != epoch_id:
        raise ForkError(f"seq {seq} differs from the head this client saw: forked", seq, None)


def detect_fork(a: Roster, b: Roster) -> None:
    """Raise ForkError with both signed entries if two verified views disagree at one seq."""
    if a.group_id != b.group_id or a.root_key != b.root_key:
        raise LogError("the two views belong to different groups")
    for seq in range(min(len(a.entries), len(b.entries))):
        ea, eb = a.entries[seq], b.entries[seq]
        if ea.entry_hash() != eb.entry_hash():
            raise ForkError(f"views disagree at seq {seq}: the log is forked", seq, (ea, eb))


def verify_fork_proof(first: LogEntry, second: LogEntry) -> bool:
    """Check that two entries are a transferable proof of a fork: same seq, both validly signed."""
    if first.group_id != second.group_id or first.seq != second.seq:
        return False
    if first.entry_hash() == second.entry_hash():
        return False
    try:
        for e in (first, second):
            verify_sig(e.signer, e.sig, e.signed_bytes(), what="fork proof")
    except SignatureError:
        return False
    return True
