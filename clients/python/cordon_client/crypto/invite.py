"""Out-of-band bindings: invitations, join MACs, member safety numbers, device link codes.

These are the only ways a key enters the signed log (PROTOCOL.md §3.4–3.7): the server never
sees the invitation secret or the link code, so it cannot substitute the key they bind.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass

from cordon_client.crypto._encoding import (
    b64d,
    b64e,
    ct_equal,
    hkdf_sha256,
    hmac_sha256,
    parse_uuid,
    sha256,
    signing_input,
)
from cordon_client.exceptions import BindingError, MalformedError

INVITE_PREFIX = "cordon-invite:2:"
LINK_PREFIX = "cordon-link:2:"
MEMBER_QR_PREFIX = "cordon-member:2:"
ROOT_HASH_LEN = 16
SECRET_LEN = 16
LINK_HASH_LEN = 16
INVITATION_TTL_MS = 14 * 86_400_000
SAFETY_ITERATIONS = 5200


def root_hash(group_id: uuid.UUID, root_key: bytes) -> bytes:
    """The 16-byte commitment to the group's root that an invitation carries."""
    return sha256(signing_input("invite-root", group_id, root_key))[:ROOT_HASH_LEN]


@dataclass(frozen=True, slots=True)
class Invitation:
    """What the coordinator hands one joining member outside Cordon (string or QR)."""

    group_id: uuid.UUID
    root_hash: bytes
    secret: bytes

    @classmethod
    def create(
        cls, group_id: uuid.UUID, root_key: bytes, secret: bytes | None = None
    ) -> Invitation:
        """A fresh invitation for one member; `secret` only for reproducible vectors."""
        raw = secret if secret is not None else os.urandom(SECRET_LEN)
        if len(raw) != SECRET_LEN:
            raise ValueError("an invitation secret is 16 bytes")
        return cls(group_id, root_hash(group_id, root_key), raw)

    @property
    def invitation_id(self) -> bytes:
        """One-way id the server indexes join requests by; it reveals nothing of the secret."""
        return hkdf_sha256(
            self.secret, salt=b"", info=signing_input("invite-id", self.group_id), length=16
        )

    def mac_key(self) -> bytes:
        """The key that authenticates the joiner's member key to the coordinator."""
        info = signing_input("join-mac", self.group_id, self.invitation_id)
        return hkdf_sha256(self.secret, salt=b"", info=info, length=32)

    def to_text(self) -> str:
        """`cordon-invite:2:` and the base64url of group id, root hash and secret (48 bytes)."""
        return INVITE_PREFIX + b64e(self.group_id.bytes + self.root_hash + self.secret)

    @classmethod
    def from_text(cls, text: str) -> Invitation:
        """Parse an invitation typed or scanned by the joining member."""
        text = "".join(text.split())
        if not text.startswith(INVITE_PREFIX):
            raise MalformedError("invitation: not a Cordon v2 invitation (cordon-invite:2:…)")
        raw = b64d(text[len(INVITE_PREFIX) :], length=48, what="invitation")
        return cls(uuid.UUID(bytes=raw[:16]), raw[16:32], raw[32:])

    def check_root(self, group_id: uuid.UUID, root_key: bytes) -> None:
        """The member learns the root from the invitation: refuse any other."""
        if group_id != self.group_id:
            raise BindingError(f"the invitation is for group {self.group_id}, not {group_id}")
        if not ct_equal(root_hash(group_id, root_key), self.root_hash):
            raise BindingError(
                f"group {group_id}: the log's root key {b64e(root_key)} is not the root "
                "named by your invitation"
            )


def join_mac_input(invitation: Invitation, member_id: uuid.UUID, member_key: bytes) -> bytes:
    """Exactly what the join MAC covers (label `join-request`)."""
    return signing_input(
        "join-request",
        invitation.group_id,
        invitation.invitation_id,
        member_id,
        member_key,
        invitation.root_hash,
    )


def join_mac(invitation: Invitation, member_id: uuid.UUID, member_key: bytes) -> bytes:
    """The joining device's proof that it holds the invitation, over its member key."""
    return hmac_sha256(invitation.mac_key(), join_mac_input(invitation, member_id, member_key))


def check_join_mac(
    invitation: Invitation, member_id: uuid.UUID, member_key: bytes, mac: bytes
) -> None:
    """Accept a join request's member key only if the invitation holder MACed exactly it."""
    if not ct_equal(join_mac(invitation, member_id, member_key), mac):
        raise BindingError(
            f"join request of member {member_id}: the MAC does not cover member key "
            f"{b64e(member_key)} (substituted key or wrong invitation)"
        )


def _digits(digest: bytes) -> str:
    groups = [int.from_bytes(digest[i * 5 : i * 5 + 5], "big") % 100_000 for i in range(12)]
    return " ".join(f"{g:05d}" for g in groups)


def member_safety_number(member_id: uuid.UUID, member_key: bytes) -> str:
    """The fallback binding: 12 groups of 5 digits read out and compared once."""
    digest = signing_input("member-fingerprint", member_id, member_key)
    for _ in range(SAFETY_ITERATIONS):
        digest = hashlib.sha512(digest + member_key).digest()
    return _digits(digest)


def member_qr_payload(member_id: uuid.UUID, member_key: bytes) -> str:
    """The member key for a QR code the coordinator scans (exact comparison)."""
    return f"{MEMBER_QR_PREFIX}{member_id}:{b64e(member_key)}"


def check_member_fingerprint(member_id: uuid.UUID, member_key: bytes, compared: str) -> None:
    """Refuse a directory key that differs from the safety number or QR payload compared."""
    given = compared.strip()
    if given.startswith(MEMBER_QR_PREFIX):
        parts = given[len(MEMBER_QR_PREFIX) :].split(":")
        if len(parts) != 2:
            raise MalformedError("member QR payload: expected member id and key")
        scanned = (parse_uuid(parts[0], what="QR member id"), b64d(parts[1], length=32))
        ok = scanned == (member_id, member_key)
    else:
        ok = " ".join(given.split()) == member_safety_number(member_id, member_key)
    if not ok:
        raise BindingError(
            f"member {member_id}: the directory's key {b64e(member_key)} does not match the "
            "fingerprint compared out of band"
        )


def link_hash(member_id: uuid.UUID, device_id: uuid.UUID, device_key: bytes) -> bytes:
    """The 16-byte commitment a new device's link code makes to its signing key."""
    return sha256(signing_input("link-code", member_id, device_id, device_key))[:LINK_HASH_LEN]


def link_code(member_id: uuid.UUID, device_id: uuid.UUID, device_key: bytes) -> str:
    """What a new device shows: `cordon-link:2:` and base64url(device id ‖ link hash)."""
    return LINK_PREFIX + b64e(device_id.bytes + link_hash(member_id, device_id, device_key))


def parse_link_code(code: str) -> tuple[uuid.UUID, bytes]:
    """Read a typed or scanned link code into (device id, link hash)."""
    code = "".join(code.split())
    if not code.startswith(LINK_PREFIX):
        raise MalformedError("link code: not a Cordon v2 link code (cordon-link:2:…)")
    raw = b64d(code[len(LINK_PREFIX) :], length=32, what="link code")
    return uuid.UUID(bytes=raw[:16]), raw[16:]


def check_link_code(
    code: str, member_id: uuid.UUID, device_id: uuid.UUID, device_key: bytes
) -> None:
    """Certify only the key the new device's code commits to."""
    code_device, expected = parse_link_code(code)
    if code_device != device_id:
        raise BindingError(f"the link code is for device {code_device}, not {device_id}")
    if not ct_equal(link_hash(member_id, device_id, device_key), expected):
        raise BindingError(
            f"device {device_id}: the served signing key {b64e(device_key)} is not the key "
            "its link code commits to"
        )
