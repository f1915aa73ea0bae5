"""Signed, hash-chained membership log entries and a writer for them (PROTOCOL.md §4)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cordon_client.crypto._encoding import (
    b64d,
    b64e,
    encode,
    parse_uuid,
    sha256,
    signing_input,
)
from cordon_client.crypto.keys import public_bytes
from cordon_client.exceptions import MalformedError, UnsupportedVersionError

LOG_VERSION = 2
ZERO_HASH = b"\x00" * 32
ROLES = ("coordinator", "member")
HISTORY_SCOPES = ("library", "cases", "prenotifications")
COORDINATOR_OPS = frozenset(
    {"genesis", "add_member", "remove_member", "set_role", "grant_history", "checkpoint"}
)
MEMBER_OPS = frozenset({"add_device", "revoke_device", "rotate_member_key"})

# Field order here is the canonical body order; kinds say how each string becomes bytes.
BODY_SCHEMAS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "genesis": (("root_key", "key"),),
    "add_member": (("member_id", "uuid"), ("member_key", "key"), ("role", "role")),
    "remove_member": (("member_id", "uuid"),),
    "set_role": (("member_id", "uuid"), ("role", "role")),
    "grant_history": (("member_id", "uuid"), ("scope", "scope")),
    "checkpoint": (("roster_hash", "hash"),),
    "add_device": (("member_id", "uuid"), ("device_id", "uuid"), ("device_key", "key")),
    "revoke_device": (("member_id", "uuid"), ("device_id", "uuid")),
    "rotate_member_key": (("member_id", "uuid"), ("member_key", "key")),
}
_ENTRY_FIELDS = {"v", "group_id", "seq", "prev", "ts", "op", "body", "signer", "sig"}


def _field_raw(name: str, kind: str, value: object) -> bytes:
    """Validate one body field and return its canonical bytes."""
    if not isinstance(value, str):
        raise MalformedError(f"body.{name}: expected a string")
    if kind == "uuid":
        return parse_uuid(value, what=f"body.{name}").bytes
    if kind in ("key", "hash"):
        return b64d(value, length=32, what=f"body.{name}")
    allowed = ROLES if kind == "role" else HISTORY_SCOPES
    if value not in allowed:
        raise MalformedError(f"body.{name}: {value!r} is not one of {allowed}")
    return value.encode("ascii")


def body_bytes(op: str, body: Mapping[str, object]) -> bytes:
    """Canonically encode an op's body, rejecting unknown ops and missing or extra fields."""
    schema = BODY_SCHEMAS.get(op)
    if schema is None:
        raise MalformedError(f"unknown log op {op!r}")
    if set(body) != {name for name, _ in schema}:
        raise MalformedError(f"{op}: body fields must be exactly {[n for n, _ in schema]}")
    return encode(*(_field_raw(name, kind, body[name]) for name, kind in schema))


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One signed membership change; `prev` chains it to the entry before."""

    v: int
    group_id: uuid.UUID
    seq: int
    prev: bytes
    ts: int
    op: str
    body: Mapping[str, str]
    signer: bytes
    sig: bytes
    _hash: list[bytes] = field(default_factory=list, compare=False, repr=False, init=False)
    _signed: list[bytes] = field(default_factory=list, compare=False, repr=False, init=False)
    _body: list[bytes] = field(default_factory=list, compare=False, repr=False, init=False)

    def signed_bytes(self) -> bytes:
        """The exact bytes the signer signed (label `log-entry`), computed once."""
        if not self._signed:
            self._signed.append(self._signing_input())
        return self._signed[0]

    def _signing_input(self) -> bytes:
        return signing_input(
            "log-entry",
            self.v,
            self.group_id,
            self.seq,
            self.prev,
            self.ts,
            self.op,
            self._body[0] if self._body else body_bytes(self.op, self.body),
            self.signer,
        )

    def entry_hash(self) -> bytes:
        """SHA-256 of signed bytes and signature: the next `prev`; at the head, the epoch id."""
        if not self._hash:
            self._hash.append(sha256(self.signed_bytes(), self.sig))
        return self._hash[0]

    def to_json(self) -> dict[str, object]:
        """Serialise for the server's log storage and for test vectors."""
        return {
            "v": self.v,
            "group_id": str(self.group_id),
            "seq": self.seq,
            "prev": b64e(self.prev),
            "ts": self.ts,
            "op": self.op,
            "body": dict(self.body),
            "signer": b64e(self.signer),
            "sig": b64e(self.sig),
        }

    @classmethod
    def from_json(cls, obj: object) -> LogEntry:
        """Parse an entry strictly; an unknown version or malformed field is rejected."""
        if not isinstance(obj, dict) or set(obj) != _ENTRY_FIELDS:
            fields = ", ".join(sorted(_ENTRY_FIELDS))
            raise MalformedError("log entry: fields must be exactly " + fields)
        if obj["v"] != LOG_VERSION:
            raise UnsupportedVersionError(f"log entry version {obj['v']!r} is not supported")
        for name in ("seq", "ts"):
            val = obj[name]
            if not isinstance(val, int) or isinstance(val, bool) or not 0 <= val < 1 << 63:
                raise MalformedError(f"log entry: {name} must be a non-negative integer")
        op, body = obj["op"], obj["body"]
        if not isinstance(op, str) or not isinstance(body, dict):
            raise MalformedError("log entry: op must be a string and body an object")
        raw_body = body_bytes(op, body)
        entry = cls(
            v=LOG_VERSION,
            group_id=parse_uuid(obj["group_id"], what="log entry group_id"),
            seq=obj["seq"],
            prev=b64d(obj["prev"], length=32, what="log entry prev"),
            ts=obj["ts"],
            op=op,
            body={k: str(v) for k, v in body.items()},
            signer=b64d(obj["signer"], length=32, what="log entry signer"),
            sig=b64d(obj["sig"], length=64, what="log entry sig"),
        )
        entry._body.append(raw_body)
        return entry


def sign_entry(
    key: Ed25519PrivateKey,
    *,
    group_id: uuid.UUID,
    seq: int,
    prev: bytes,
    ts: int,
    op: str,
    body: Mapping[str, str],
) -> LogEntry:
    """Build and sign one entry; the caller supplies its position in the chain."""
    signer = public_bytes(key)
    unsigned = LogEntry(LOG_VERSION, group_id, seq, prev, ts, op, dict(body), signer, b"")
    sig = key.sign(unsigned.signed_bytes())
    return LogEntry(LOG_VERSION, group_id, seq, prev, ts, op, dict(body), signer, sig)


class LogWriter:
    """Appends correctly chained entries for coordinators and members (no verification)."""

    def __init__(self, group_id: uuid.UUID, entries: list[LogEntry] | None = None) -> None:
        self.group_id = group_id
        self.entries: list[LogEntry] = list(entries or [])

    def append(self, key: Ed25519PrivateKey, op: str, body: Mapping[str, str], ts: int) -> LogEntry:
        """Sign `op` as the next entry after the current head and keep it."""
        head = self.entries[-1] if self.entries else None
        entry = sign_entry(
            key,
            group_id=self.group_id,
            seq=0 if head is None else head.seq + 1,
            prev=ZERO_HASH if head is None else head.entry_hash(),
            ts=ts,
            op=op,
            body=body,
        )
        self.entries.append(entry)
        return entry

    def genesis(self, root: Ed25519PrivateKey, ts: int) -> LogEntry:
        """Open the group; the genesis signer is the trust root clients pin."""
        return self.append(root, "genesis", {"root_key": b64e(public_bytes(root))}, ts)

    def add_member(
        self, signer: Ed25519PrivateKey, member_id: uuid.UUID, member_key: bytes, role: str, ts: int
    ) -> LogEntry:
        """Certify a member key with a role (coordinator op)."""
        body = {"member_id": str(member_id), "member_key": b64e(member_key), "role": role}
        return self.append(signer, "add_member", body, ts)

    def remove_member(self, signer: Ed25519PrivateKey, member_id: uuid.UUID, ts: int) -> LogEntry:
        """Remove a member and all its devices (coordinator op)."""
        return self.append(signer, "remove_member", {"member_id": str(member_id)}, ts)

    def set_role(
        self, signer: Ed25519PrivateKey, member_id: uuid.UUID, role: str, ts: int
    ) -> LogEntry:
        """Change a member's role (coordinator op)."""
        return self.append(signer, "set_role", {"member_id": str(member_id), "role": role}, ts)

    def grant_history(
        self, signer: Ed25519PrivateKey, member_id: uuid.UUID, ts: int, scope: str = "library"
    ) -> LogEntry:
        """Record the coordinator's explicit grant of one history scope to a member."""
        return self.append(
            signer, "grant_history", {"member_id": str(member_id), "scope": scope}, ts
        )

    def checkpoint(self, signer: Ed25519PrivateKey, roster_hash: bytes, ts: int) -> LogEntry:
        """Commit to the roster digest so clients can cross-check their computed roster."""
        return self.append(signer, "checkpoint", {"roster_hash": b64e(roster_hash)}, ts)

    def add_device(
        self,
        member_key: Ed25519PrivateKey,
        member_id: uuid.UUID,
        device_id: uuid.UUID,
        device_key: bytes,
        ts: int,
    ) -> LogEntry:
        """Certify a device signing key with the member's own key."""
        body = {
            "member_id": str(member_id),
            "device_id": str(device_id),
            "device_key": b64e(device_key),
        }
        return self.append(member_key, "add_device", body, ts)

    def revoke_device(
        self, signer: Ed25519PrivateKey, member_id: uuid.UUID, device_id: uuid.UUID, ts: int
    ) -> LogEntry:
        """Revoke a device (by its member or a coordinator)."""
        body = {"member_id": str(member_id), "device_id": str(device_id)}
        return self.append(signer, "revoke_device", body, ts)

    def rotate_member_key(
        self, old_key: Ed25519PrivateKey, member_id: uuid.UUID, new_key: bytes, ts: int
    ) -> LogEntry:
        """Replace a member key, signed by the key it replaces."""
        body = {"member_id": str(member_id), "member_key": b64e(new_key)}
        return self.append(old_key, "rotate_member_key", body, ts)
