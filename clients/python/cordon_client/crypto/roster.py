"""Verify the membership log from the pinned root and derive the roster (PROTOCOL.md §4).

Also the rules that compare a verified log with what this device verified before (rollback,
fork, fork proofs), with its own device key, and with the epoch an envelope names.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cordon_client.crypto._encoding import b64d, b64e, encode, label, parse_uuid, sha256
from cordon_client.crypto.keys import verify_sig
from cordon_client.crypto.log import COORDINATOR_OPS, LOG_VERSION, ZERO_HASH, LogEntry
from cordon_client.exceptions import (
    CryptoError,
    DeviceKeyMismatchError,
    EpochMismatchError,
    ForkError,
    ForkProofError,
    InjectedDeviceError,
    InjectedMemberError,
    LogChainError,
    LogError,
    LogGapError,
    LogOrderError,
    LogRollbackError,
    LogRootError,
    SignatureError,
    StaleEpochError,
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
        self.live_devices: set[uuid.UUID] = set()
        self.removals: list[int] = []
        self._coordinators: set[bytes] | None = None

    def copy(self) -> _State:
        twin = _State(self.root_key)
        twin.members = dict(self.members)
        twin.retired_devices = set(self.retired_devices)
        twin.live_devices = set(self.live_devices)
        twin.removals = list(self.removals)
        return twin

    def coordinator_keys(self) -> set[bytes]:
        """Cached between entries that cannot change it, so verification stays linear."""
        if self._coordinators is None:
            self._coordinators = {self.root_key} | {
                m.member_key for m in self.members.values() if m.role == "coordinator"
            }
        return self._coordinators

    def coordinators_changed(self) -> None:
        self._coordinators = None

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


def _changes_coordinators(state: _State, entry: LogEntry) -> bool:
    """Only an op on a member who is or becomes a coordinator changes the coordinator keys."""
    op, body = entry.op, entry.body
    if op == "add_member":
        return body["role"] == "coordinator"
    if op not in ("remove_member", "set_role", "rotate_member_key"):
        return False
    member = state.members.get(uuid.UUID(body["member_id"]))
    return member is None or member.role == "coordinator" or body.get("role") == "coordinator"


def _apply(state: _State, entry: LogEntry) -> None:
    """Apply an authorised entry, rejecting changes that make no sense at this head."""
    op, body, seq = entry.op, entry.body, entry.seq
    if _changes_coordinators(state, entry):
        state.coordinators_changed()
    if op == "add_member":
        mid = uuid.UUID(body["member_id"])
        if mid in state.members:
            raise LogError(f"seq {seq}: member {mid} is already in the group")
        key = b64d(body["member_key"], length=32)
        state.members[mid] = Member(mid, body["role"], key, {}, frozenset())
    elif op == "remove_member":
        member = state.member(entry)
        state.retired_devices |= set(member.devices)
        state.live_devices -= set(member.devices)
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
        if did in state.retired_devices or did in state.live_devices:
            raise InjectedDeviceError(f"seq {seq}: device {did} was already used in this group")
        dev = Device(did, member.member_id, b64d(body["device_key"], length=32))
        state.live_devices.add(did)
        state.replace(member, devices={**member.devices, did: dev})
    elif op == "revoke_device":
        member, did = state.member(entry), uuid.UUID(body["device_id"])
        if did not in member.devices:
            raise LogError(f"seq {seq}: device {did} is not a device of member {member.member_id}")
        state.retired_devices.add(did)
        state.live_devices.discard(did)
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


class _Verifier:
    """Applies entries one at a time from the pinned root (§4.4 steps 1–7)."""

    def __init__(self, root_key: bytes, group_id: uuid.UUID) -> None:
        self.root_key, self.group_id = root_key, group_id
        self.state = _State(root_key)
        self.entries: list[LogEntry] = []
        self.prev_hash, self.prev_ts = ZERO_HASH, 0

    def copy(self) -> _Verifier:
        twin = _Verifier(self.root_key, self.group_id)
        twin.state, twin.entries = self.state.copy(), list(self.entries)
        twin.prev_hash, twin.prev_ts = self.prev_hash, self.prev_ts
        return twin

    def step(self, entry: LogEntry, *, check_signature: bool = True) -> None:
        """Apply the next entry; `check_signature=False` only for a root-attested prefix."""
        idx = len(self.entries)
        if entry.v != LOG_VERSION:
            raise UnsupportedVersionError(f"log entry {idx} has version {entry.v}")
        if entry.group_id != self.group_id:
            raise LogError(f"entry seq {entry.seq} belongs to group {entry.group_id}")
        if entry.seq != idx:
            raise LogOrderError(f"entry seq {entry.seq} is not the next seq {idx}")
        if entry.prev != self.prev_hash:
            raise LogChainError(f"entry seq {idx}: prev does not match the previous entry's hash")
        if idx == 0:
            if entry.op != "genesis" or entry.signer != self.root_key:
                raise LogRootError("genesis is not signed by the pinned coordinator key")
            if b64d(entry.body["root_key"], length=32) != self.root_key:
                raise LogRootError("genesis names a different root key")
        else:
            _authorise(self.state, entry)
        if check_signature:
            try:
                verify_sig(entry.signer, entry.sig, entry.signed_bytes(), what=f"log entry {idx}")
            except SignatureError as exc:
                if idx == 0:
                    raise LogRootError("genesis signature does not verify") from exc
                raise _unauthorised(entry, "signature does not verify") from exc
        if entry.ts < self.prev_ts:
            raise LogOrderError(f"entry seq {idx}: timestamp goes backwards")
        if idx:
            _apply(self.state, entry)
        self.entries.append(entry)
        self.prev_hash, self.prev_ts = entry.entry_hash(), entry.ts

    def roster(self) -> Roster:
        s = self.state
        return Roster(
            self.group_id, self.root_key, dict(s.members), tuple(self.entries), tuple(s.removals)
        )


CHECKPOINT_INTERVAL = 1000


def root_attested_prefix(root_key: bytes, entries: Sequence[LogEntry]) -> int:
    """Index of the latest `checkpoint` signed by the pinned root key, or 0 if there is none.

    Entries before it are attested by the root: its signature covers `prev`, which hash-chains
    every earlier entry, signature included (§4.4). Their signatures need no check; the
    checkpoint's own signature and every entry after it are verified in full.
    """
    for idx in range(len(entries) - 1, 0, -1):
        entry = entries[idx]
        if entry.op == "checkpoint" and entry.signer == root_key:
            return idx
    return 0


def checkpoint_due(
    root_key: bytes, entries: Sequence[LogEntry], interval: int = CHECKPOINT_INTERVAL
) -> bool:
    """True when the next entry should be a root-signed checkpoint: it would sit `interval`
    entries after the latest one (or after genesis)."""
    return len(entries) - root_attested_prefix(root_key, entries) >= interval


def verify_log(
    root_key: bytes,
    group_id: uuid.UUID,
    entries: Sequence[LogEntry],
    *,
    known_head: Sequence[LogEntry] | None = None,
) -> Roster:
    """Verify every link from the pinned root and return the roster at the head.

    Signatures before the latest root-signed checkpoint are not checked (§4.4 step 5): the
    root attested that prefix; every other check still runs on every entry.

    `known_head` is the tail of the log this device verified before (oldest first, ending at
    its persisted head): a shorter log is a rollback, a different entry at a known seq a fork.
    """
    if not entries:
        raise LogRootError("the log is empty")
    verifier = _Verifier(root_key, group_id)
    attested = root_attested_prefix(root_key, entries)
    for idx, entry in enumerate(entries):
        if entry.seq != idx:
            _check_position(entries, idx)
        verifier.step(entry, check_signature=idx >= attested)
    roster = verifier.roster()
    if known_head:
        check_known_head(roster, known_head)
    return roster


def check_known_head(roster: Roster, known: Sequence[LogEntry]) -> None:
    """A log that drops or rewrites entries this device already verified is refused (§4.6).

    A different entry at a known seq is a fork (checked first: a forked log may also be
    shorter); otherwise a log ending before the known head is a rollback.
    """
    gid = roster.group_id
    for mine in known:
        if mine.seq > roster.head_seq:
            break
        theirs = roster.entries[mine.seq]
        if theirs.entry_hash() == mine.entry_hash():
            continue
        proof = None
        if theirs.prev == mine.prev:
            proof = fork_proof(roster.entries[: mine.seq], mine, theirs)
        where = f"seq {mine.seq}" if proof else f"or before seq {mine.seq}"
        raise ForkError(
            f"group {gid}: fork detected at {where}: the server's log holds entry "
            f"{theirs.entry_hash().hex()[:16]} where this device verified "
            f"{mine.entry_hash().hex()[:16]}",
            mine.seq,
            (mine, theirs),
            proof,
        )
    head = known[-1]
    if head.seq > roster.head_seq:
        raise LogRollbackError(
            f"group {gid}: rollback refused: the server's log ends at seq {roster.head_seq}, "
            f"but this device already verified seq {head.seq} "
            f"(epoch {head.entry_hash().hex()[:16]})"
        )


FORK_PROOF_VERSION = 2
_PROOF_FIELDS = {"v", "group_id", "seq", "prefix", "entries"}


def fork_proof(prefix: Sequence[LogEntry], first: LogEntry, second: LogEntry) -> dict[str, object]:
    """A transferable proof: the common prefix and two different entries that both extend it."""
    return {
        "v": FORK_PROOF_VERSION,
        "group_id": str(first.group_id),
        "seq": first.seq,
        "prefix": [e.to_json() for e in prefix],
        "entries": [first.to_json(), second.to_json()],
    }


def verify_fork_proof(
    root_key: bytes, group_id: uuid.UUID, proof: object
) -> tuple[LogEntry, LogEntry]:
    """Check a fork proof against the group's pinned root; return the two forking entries.

    Both entries must be valid next entries of the prefix, verified from the root: same seq,
    same `prev`, each signed by a key authorised at that point, and different from each other.
    """
    if not isinstance(proof, dict) or set(proof) != _PROOF_FIELDS:
        raise ForkProofError(f"fork proof: fields must be exactly {sorted(_PROOF_FIELDS)}")
    if proof["v"] != FORK_PROOF_VERSION:
        raise ForkProofError(f"fork proof: version {proof['v']!r} is not supported")
    prefix_json, pair = proof["prefix"], proof["entries"]
    if not isinstance(prefix_json, list) or not isinstance(pair, list) or len(pair) != 2:
        raise ForkProofError("fork proof: prefix must be a list and entries a pair")
    try:
        if parse_uuid(proof["group_id"], what="fork proof group_id") != group_id:
            raise ForkProofError(f"fork proof: it is about another group, not {group_id}")
        prefix = [LogEntry.from_json(e) for e in prefix_json]
        first, second = (LogEntry.from_json(e) for e in pair)
    except ForkProofError:
        raise
    except CryptoError as exc:
        raise ForkProofError(f"fork proof: {exc.reason}") from None
    if proof["seq"] != len(prefix) or first.seq != len(prefix) or second.seq != len(prefix):
        raise ForkProofError("fork proof: seq must equal the prefix length for both entries")
    verifier = _Verifier(root_key, group_id)
    try:
        for entry in prefix:
            verifier.step(entry)
    except CryptoError as exc:
        raise ForkProofError(f"fork proof: the prefix does not verify: {exc.reason}") from None
    if first.entry_hash() == second.entry_hash():
        raise ForkProofError(f"fork proof: both entries at seq {first.seq} are the same entry")
    for n, entry in enumerate((first, second), start=1):
        try:
            verifier.copy().step(entry)
        except CryptoError as exc:
            raise ForkProofError(
                f"fork proof: entry {n} at seq {entry.seq} does not extend the verified "
                f"prefix: {exc.reason}"
            ) from None
    return first, second


def detect_fork(a: Roster, b: Roster) -> None:
    """Raise ForkError with a proof if two verified views disagree at one seq."""
    if a.group_id != b.group_id or a.root_key != b.root_key:
        raise LogError("the two views belong to different groups")
    for seq in range(min(len(a.entries), len(b.entries))):
        ea, eb = a.entries[seq], b.entries[seq]
        if ea.entry_hash() != eb.entry_hash():
            raise ForkError(
                f"views disagree at seq {seq}: the log is forked",
                seq,
                (ea, eb),
                fork_proof(a.entries[:seq], ea, eb),
            )


EPOCH_GRACE_ENTRIES = 32


def envelope_epoch_seq(roster: Roster, epoch_id: bytes) -> int:
    """The seq of the head an envelope names, if a receiver may accept it (§7 step 2).

    Accepted: the verified head, or an earlier head at most EPOCH_GRACE_ENTRIES entries back
    with no removal or revocation after it. Anything else names an unknown or stale view.
    """
    seq = roster.epoch_seq(epoch_id)
    head = roster.head_seq
    if seq is None:
        raise EpochMismatchError(
            f"envelope names roster head {epoch_id.hex()[:16]}, which is not in this "
            f"device's verified log (head seq {head}); refresh the log",
            epoch_id,
        )
    if head - seq > EPOCH_GRACE_ENTRIES:
        raise StaleEpochError(
            f"envelope names roster head seq {seq}, {head - seq} entries behind the verified "
            f"head seq {head} (grace window {EPOCH_GRACE_ENTRIES}): its sender's view is stale",
            epoch_id,
        )
    removal = next((r for r in roster.removal_seqs if seq < r <= head), None)
    if removal is not None:
        raise StaleEpochError(
            f"envelope names roster head seq {seq}, before the removal at seq {removal}: "
            "its sender has not seen the removal",
            epoch_id,
        )
    return seq


def check_own_device(roster: Roster, device_id: uuid.UUID, signing_key: bytes) -> None:
    """Refuse a log that certifies, for this device's id, a key other than this device's."""
    for entry in roster.entries:
        if entry.op != "add_device" or entry.body["device_id"] != str(device_id):
            continue
        certified = b64d(entry.body["device_key"], length=32)
        if certified != signing_key:
            raise DeviceKeyMismatchError(
                f"group {roster.group_id}: log entry seq {entry.seq} certifies key "
                f"{b64e(certified)} for this device ({device_id}), but its key is "
                f"{b64e(signing_key)}: refusing to act on this log"
            )
