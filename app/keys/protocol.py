"""The server's mirror of the wire formats it must check (docs/PROTOCOL.md §2–4).

Pure functions, no I/O. Labels and the canonical encoding come from `cordon_client.wire`, the
one implementation of the wire format that server and SDK share; the log entry's and the
prekey's signed bytes are built from them here.
"""

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from cordon_client import wire
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.core.encoding import b64url_strict

LOG_VERSION = 2
ZERO_HASH = b"\x00" * 32
PREKEY_MAX_LIFETIME_MS = 7 * 24 * 3600 * 1000
ROLES = ("coordinator", "member")
SCOPES = ("library", "cases", "prenotifications")
COORDINATOR_OPS = frozenset(
    {"genesis", "add_member", "remove_member", "set_role", "grant_history", "checkpoint"}
)
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
ENTRY_FIELDS = frozenset({"v", "group_id", "seq", "prev", "ts", "op", "body", "signer", "sig"})
PREKEY_FIELDS = frozenset(
    {"device_id", "prekey_id", "public_key", "created_ts", "expires_ts", "sig"}
)


label = wire.label
encode = wire.enc


class FormatError(ValueError):
    """The input is not a well-formed protocol object; the message names the field."""


def b64d(text: object, *, length: int, what: str) -> bytes:
    """Strict unpadded base64url of an exact length, as a protocol FormatError."""
    try:
        return b64url_strict(text, length=length, what=what)
    except ValueError as exc:
        raise FormatError(str(exc)) from None


def parse_uuid(text: object, *, what: str) -> uuid.UUID:
    """Only the canonical lowercase form, so one id has one encoding."""
    try:
        value = uuid.UUID(str(text))
    except ValueError as exc:
        raise FormatError(f"{what}: not a UUID") from exc
    if not isinstance(text, str) or str(value) != text:
        raise FormatError(f"{what}: UUID not in canonical lowercase form")
    return value


def _uint(obj: Mapping[str, object], name: str, bits: int = 63) -> int:
    value = obj[name]
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << bits:
        raise FormatError(f"{name}: expected a non-negative integer")
    return value


def _body_bytes(op: str, body: object) -> tuple[bytes, dict[str, str]]:
    schema = BODY_SCHEMAS.get(op)
    if schema is None:
        raise FormatError(f"op: unknown log op {op!r}")
    if not isinstance(body, dict) or set(body) != {name for name, _ in schema}:
        raise FormatError(f"body: {op} takes exactly {[n for n, _ in schema]}")
    raws: list[bytes] = []
    for name, kind in schema:
        value = body[name]
        if kind == "uuid":
            raws.append(parse_uuid(value, what=f"body.{name}").bytes)
        elif kind in ("key", "hash"):
            raws.append(b64d(value, length=32, what=f"body.{name}"))
        elif value in (ROLES if kind == "role" else SCOPES):
            raws.append(str(value).encode())
        else:
            raise FormatError(f"body.{name}: {value!r} is not allowed")
    return encode(*raws), {k: str(v) for k, v in body.items()}


@dataclass(frozen=True)
class LogEntry:
    """A parsed, signature-checked membership log entry."""

    group_id: uuid.UUID
    seq: int
    prev: bytes
    ts: int
    op: str
    body: dict[str, str]
    signer: bytes
    entry_hash: bytes


def verify_signature(public_key: bytes, signature: bytes, message: bytes, what: str) -> None:
    """Ed25519 check whose failure is a FormatError naming the field."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError) as exc:
        raise FormatError(f"{what}: signature does not verify") from exc


def parse_log_entry(obj: object) -> LogEntry:
    """Check an entry's shape and its signature by its own `signer` (§4.1)."""
    if not isinstance(obj, dict) or set(obj) != ENTRY_FIELDS:
        raise FormatError(f"entry: fields must be exactly {sorted(ENTRY_FIELDS)}")
    if obj["v"] != LOG_VERSION:
        raise FormatError(f"v: version {obj['v']!r} is not supported")
    group_id = parse_uuid(obj["group_id"], what="group_id")
    seq, ts = _uint(obj, "seq"), _uint(obj, "ts")
    op = obj["op"]
    if not isinstance(op, str):
        raise FormatError("op: expected a string")
    body_raw, body = _body_bytes(op, obj["body"])
    prev = b64d(obj["prev"], length=32, what="prev")
    signer = b64d(obj["signer"], length=32, what="signer")
    sig = b64d(obj["sig"], length=64, what="sig")
    signed = label("log-entry") + encode(LOG_VERSION, group_id, seq, prev, ts, op, body_raw, signer)
    verify_signature(signer, sig, signed, "sig")
    return LogEntry(
        group_id, seq, prev, ts, op, body, signer, hashlib.sha256(signed + sig).digest()
    )


@dataclass(frozen=True)
class Prekey:
    """A parsed signed prekey record (§3)."""

    device_id: uuid.UUID
    prekey_id: int
    public_key: bytes
    created_ts: int
    expires_ts: int
    sig: bytes


def parse_prekey(obj: object, *, device_signing_key: bytes) -> Prekey:
    """Check a prekey's shape, lifetime and its signature by the device key."""
    if not isinstance(obj, dict) or set(obj) != PREKEY_FIELDS:
        raise FormatError(f"prekey: fields must be exactly {sorted(PREKEY_FIELDS)}")
    prekey = Prekey(
        device_id=parse_uuid(obj["device_id"], what="device_id"),
        prekey_id=_uint(obj, "prekey_id", bits=32),
        public_key=b64d(obj["public_key"], length=32, what="public_key"),
        created_ts=_uint(obj, "created_ts"),
        expires_ts=_uint(obj, "expires_ts"),
        sig=b64d(obj["sig"], length=64, what="sig"),
    )
    lifetime = prekey.expires_ts - prekey.created_ts
    if not 0 < lifetime <= PREKEY_MAX_LIFETIME_MS:
        raise FormatError("expires_ts: a prekey lives more than 0 and at most 7 days")
    signed = label("prekey") + encode(
        prekey.device_id,
        prekey.prekey_id,
        prekey.public_key,
        prekey.created_ts,
        prekey.expires_ts,
    )
    verify_signature(device_signing_key, prekey.sig, signed, "sig")
    return prekey


ONE_TIME_PREKEY_FIELDS = frozenset({"device_id", "prekey_id", "public_key", "sig"})


@dataclass(frozen=True)
class OneTimePrekey:
    """A parsed one-time prekey record (§3.2)."""

    device_id: uuid.UUID
    prekey_id: int
    public_key: bytes
    sig: bytes


def parse_one_time_prekey(obj: object, *, device_signing_key: bytes, what: str) -> OneTimePrekey:
    """Check a one-time prekey's shape and its signature by the device key."""
    if not isinstance(obj, dict) or set(obj) != ONE_TIME_PREKEY_FIELDS:
        raise FormatError(f"{what}: fields must be exactly {sorted(ONE_TIME_PREKEY_FIELDS)}")
    try:
        prekey = OneTimePrekey(
            device_id=parse_uuid(obj["device_id"], what="device_id"),
            prekey_id=_uint(obj, "prekey_id", bits=32),
            public_key=b64d(obj["public_key"], length=32, what="public_key"),
            sig=b64d(obj["sig"], length=64, what="sig"),
        )
        signed = label("one-time-prekey") + encode(
            prekey.device_id, prekey.prekey_id, prekey.public_key
        )
        verify_signature(device_signing_key, prekey.sig, signed, "sig")
    except FormatError as exc:
        raise FormatError(f"{what}.{exc}") from None
    return prekey
