"""The server's mirror of a signed template document (docs/PROTOCOL.md §12). Pure, no I/O.

The server checks the document's shape and the publishing device's signature, so a forged
or garbled template is refused before storage; clients still verify it themselves against
their verified roster before they use it.
"""

import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

from cordon_client import wire

from app.keys.protocol import FormatError, b64d, encode, label, verify_signature

FIELDS = frozenset({"v", "group_id", "template_id", "version", "ts", "template", "signer", "sig"})
TEMPLATE_ID = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
BUILTINS = frozenset({("seizure-case", 1), ("vaccine-prenotification", 1)})


@dataclass(frozen=True)
class SignedTemplate:
    """A well-formed, validly signed template document."""

    template_id: str
    version: int
    signer: bytes
    canonical: str


def canonical_json(value: object) -> bytes:
    """The canonical JSON of docs/PROTOCOL.md §2.2, from `cordon_client.wire` (the client's
    implementation, shared)."""
    try:
        return wire.canonical_json(value)
    except wire.WireFormatError as exc:
        raise FormatError(f"template: {exc}") from None


def _positive(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FormatError(f"{what}: expected a non-negative integer")
    return value


def parse_signed_template(document: dict[str, Any], *, group_id: uuid.UUID) -> SignedTemplate:
    """Check fields, ids and the signature; raise FormatError naming what is wrong."""
    if set(document) != FIELDS:
        raise FormatError(f"document: needs exactly the fields {sorted(FIELDS)}")
    if document["v"] != 1:
        raise FormatError("v: only version 1 is supported")
    if document["group_id"] != str(group_id):
        raise FormatError("group_id: the document is for another group")
    template_id, body = document["template_id"], document["template"]
    if not isinstance(template_id, str) or not TEMPLATE_ID.match(template_id):
        raise FormatError("template_id: lowercase letters, digits and dashes")
    version, ts = _positive(document["version"], "version"), _positive(document["ts"], "ts")
    if version < 1:
        raise FormatError("version: starts at 1")
    if not isinstance(body, dict) or (body.get("id"), body.get("version")) != (
        template_id,
        version,
    ):
        raise FormatError("template: must be an object whose id and version match the document")
    signer = b64d(document["signer"], length=32, what="signer")
    sig = b64d(document["sig"], length=64, what="sig")
    body_hash = hashlib.sha256(canonical_json(body)).digest()
    message = label("template") + encode(1, group_id, template_id, version, ts, body_hash, signer)
    verify_signature(signer, sig, message, "sig")
    return SignedTemplate(template_id, version, signer, canonical_json(document).decode())
