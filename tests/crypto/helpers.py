"""Builders shared by the crypto tests: a verified group with sessions for chosen devices."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from cordon_client.crypto import (
    GroupSession,
    LogWriter,
    Recipient,
    Roster,
    SignedPrekey,
    make_prekey,
    new_signing_key,
    public_bytes,
    verify_log,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

T0 = 1_700_000_000_000


@dataclass
class MemberKeys:
    """One member's keys and devices."""

    member_id: uuid.UUID
    key: Ed25519PrivateKey
    devices: dict[uuid.UUID, Ed25519PrivateKey] = field(default_factory=dict)


@dataclass
class Group:
    """A group under test: log writer, keys, prekeys and helpers to get sessions."""

    group_id: uuid.UUID
    root: Ed25519PrivateKey
    writer: LogWriter
    members: list[MemberKeys]
    prekeys: dict[uuid.UUID, tuple[X25519PrivateKey, SignedPrekey]] = field(default_factory=dict)

    @property
    def root_key(self) -> bytes:
        return public_bytes(self.root)

    def roster(self) -> Roster:
        return verify_log(self.root_key, self.group_id, self.writer.entries)

    def device_ids(self) -> list[uuid.UUID]:
        return [d for m in self.members for d in m.devices]

    def add_member(self, devices: int = 1, role: str = "member") -> MemberKeys:
        member = MemberKeys(uuid.uuid4(), new_signing_key())
        self.writer.add_member(self.root, member.member_id, public_bytes(member.key), role, T0)
        self.members.append(member)
        for _ in range(devices):
            self.add_device(member)
        return member

    def add_device(self, member: MemberKeys) -> uuid.UUID:
        did, key = uuid.uuid4(), new_signing_key()
        self.writer.add_device(member.key, member.member_id, did, public_bytes(key), T0)
        member.devices[did] = key
        self.prekeys[did] = make_prekey(key, did, 1, T0)
        return did

    def key_of(self, device_id: uuid.UUID) -> Ed25519PrivateKey:
        return next(m.devices[device_id] for m in self.members if device_id in m.devices)

    def session(self, device_id: uuid.UUID) -> GroupSession:
        return GroupSession(
            roster=self.roster(),
            device_id=device_id,
            signing_key=self.key_of(device_id),
            prekeys={1: self.prekeys[device_id][0]},
        )

    def served_prekeys(self) -> dict[uuid.UUID, SignedPrekey]:
        return {did: pk for did, (_, pk) in self.prekeys.items()}

    def recipients(self, session: GroupSession) -> list[Recipient]:
        return session.recipients_for(self.served_prekeys(), now_ms=T0 + 1)


def make_group(members: int = 3, devices_per_member: int = 1) -> Group:
    """A group with a coordinator-signed log of `members` members."""
    gid, root = uuid.uuid4(), new_signing_key()
    writer = LogWriter(gid)
    writer.genesis(root, T0)
    group = Group(gid, root, writer, [])
    for _ in range(members):
        group.add_member(devices_per_member)
    return group
