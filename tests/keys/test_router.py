"""The key directory and the signed membership log through the API, checked by the client.

Entries and prekeys are made with the client's protocol library, so these tests also pin the
server's mirror of the wire format to the client's. The tamper tests edit the server's
database directly, as a compromised server would, and expect the client's verifier to notice.
"""

import json
import time
import uuid
from dataclasses import dataclass

import httpx
import pytest
from cordon_client import exceptions as cx
from cordon_client.crypto import LogEntry, LogWriter, make_prekey, public_bytes, verify_log
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.keys import protocol
from app.keys.models import GroupLogEntry
from tests import factories as f
from tests.factories import assert_problem

VECTORS = "tests/crypto/vectors/log.json"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class SignedGroup:
    """A group whose log holds genesis, the member's certification and the member's device."""

    g: f.GroupSetup
    root: Ed25519PrivateKey
    member_key: Ed25519PrivateKey
    writer: LogWriter


async def _append(client: httpx.AsyncClient, g: f.GroupSetup, who: f.Actor, entry: LogEntry):
    return await client.post(
        f"/api/v1/groups/{g.group_id}/log", headers=who.headers, json={"entry": entry.to_json()}
    )


async def _signed_group(client: httpx.AsyncClient, session: AsyncSession) -> SignedGroup:
    g = await f.group_with_roles(client, session)
    root, member_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    writer = LogWriter(uuid.UUID(g.group_id))
    assert g.member.signing_key is not None
    entries = [
        (g.coordinator, writer.genesis(root, now_ms())),
        (
            g.coordinator,
            writer.add_member(
                root, uuid.UUID(g.member.id), public_bytes(member_key), "member", now_ms()
            ),
        ),
        (
            g.member,
            writer.add_device(
                member_key,
                uuid.UUID(g.member.id),
                uuid.UUID(g.member.device_id),
                public_bytes(g.member.signing_key),
                now_ms(),
            ),
        ),
    ]
    for who, entry in entries:
        r = await _append(client, g, who, entry)
        assert r.status_code == 201, r.text
        assert r.json()["entry_hash"] == entry.entry_hash().hex()
    return SignedGroup(g, root, member_key, writer)


async def _client_view(client: httpx.AsyncClient, sg: SignedGroup, who: f.Actor):
    r = await client.get(f"/api/v1/groups/{sg.g.group_id}/log", headers=who.headers)
    assert r.status_code == 200
    entries = [LogEntry.from_json(item["entry"]) for item in r.json()["items"]]
    return verify_log(public_bytes(sg.root), uuid.UUID(sg.g.group_id), entries)


def test_server_mirror_matches_vectors():
    """The server's parser gives the same entry hashes as the checked-in vectors."""
    with open(VECTORS) as fh:
        vectors = json.load(fh)
    hashes = [protocol.parse_log_entry(e).entry_hash.hex() for e in vectors["entries"]]
    assert hashes == vectors["entry_hashes"]


async def test_log_roundtrip_gives_verified_roster(
    client: httpx.AsyncClient, session: AsyncSession
):
    """What the server stores and serves verifies from the pinned root into the right roster."""
    sg = await _signed_group(client, session)
    roster = await _client_view(client, sg, sg.g.observer)
    assert roster.head_seq == 2
    assert roster.device(uuid.UUID(sg.g.member.device_id)) is not None
    assert roster.epoch_id == sg.writer.entries[-1].entry_hash()


async def test_log_refuses_bad_entries(client: httpx.AsyncClient, session: AsyncSession):
    """Out-of-order, forged, foreign and unauthorised entries are refused and not stored."""
    sg = await _signed_group(client, session)
    g, gid = sg.g, uuid.UUID(sg.g.group_id)
    stale = LogWriter(gid, sg.writer.entries[:1]).add_member(
        sg.root,
        uuid.UUID(g.observer.id),
        public_bytes(Ed25519PrivateKey.generate()),
        "member",
        now_ms(),
    )
    assert_problem(await _append(client, g, g.coordinator, stale), 409, "keys.log_out_of_order")
    forged = sg.writer.entries[-1].to_json() | {"ts": now_ms() + 1}
    forged["seq"], forged["prev"] = 3, sg.writer.entries[-1].to_json()["sig"][:43]
    r = await client.post(
        f"/api/v1/groups/{g.group_id}/log", headers=g.coordinator.headers, json={"entry": forged}
    )
    assert_problem(r, 422, "keys.malformed")
    nxt = LogWriter(gid, list(sg.writer.entries))
    by_member = nxt.add_member(
        sg.member_key,
        uuid.UUID(g.observer.id),
        public_bytes(Ed25519PrivateKey.generate()),
        "member",
        now_ms(),
    )
    assert_problem(await _append(client, g, g.member, by_member), 403, "keys.log_entry_not_allowed")
    nxt = LogWriter(gid, list(sg.writer.entries))
    outsider = nxt.add_member(
        sg.root,
        uuid.UUID(g.outsider.id),
        public_bytes(Ed25519PrivateKey.generate()),
        "member",
        now_ms(),
    )
    assert_problem(
        await _append(client, g, g.coordinator, outsider), 403, "keys.log_entry_not_allowed"
    )
    nxt = LogWriter(gid, list(sg.writer.entries))
    theft = nxt.add_device(
        sg.member_key,
        uuid.UUID(g.member.id),
        uuid.UUID(g.observer.device_id),
        public_bytes(Ed25519PrivateKey.generate()),
        now_ms(),
    )
    assert_problem(await _append(client, g, g.member, theft), 403, "keys.log_entry_not_allowed")
    other = LogWriter(uuid.uuid4()).genesis(sg.root, now_ms())
    assert_problem(await _append(client, g, g.coordinator, other), 422, "keys.malformed")
    count = len(
        (await client.get(f"/api/v1/groups/{g.group_id}/log", headers=g.member.headers)).json()[
            "items"
        ]
    )
    assert count == 3


async def test_outsider_cannot_read_or_write_log(client: httpx.AsyncClient, session: AsyncSession):
    """The log of a group is as invisible to outsiders as the group itself."""
    sg = await _signed_group(client, session)
    r = await client.get(f"/api/v1/groups/{sg.g.group_id}/log", headers=sg.g.outsider.headers)
    assert_problem(r, 404, "group.not_found")


def _forged_row(sg: SignedGroup, entry: LogEntry) -> GroupLogEntry:
    return GroupLogEntry(
        group_id=uuid.UUID(sg.g.group_id),
        seq=entry.seq,
        op=entry.op,
        entry_hash=entry.entry_hash(),
        entry_json=json.dumps(entry.to_json()),
    )


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("inject_member", cx.InjectedMemberError),
        ("inject_device", cx.InjectedDeviceError),
        ("drop_entry", cx.LogGapError),
        ("reorder", cx.LogOrderError),
    ],
)
async def test_client_detects_tampered_database(
    client: httpx.AsyncClient, session: AsyncSession, case: str, error: type[Exception]
):
    """A server that edits its own database cannot slip a change past the client's verifier."""
    sg = await _signed_group(client, session)
    gid = uuid.UUID(sg.g.group_id)
    server_key = Ed25519PrivateKey.generate()  # a key the server controls, never certified
    nxt = LogWriter(gid, list(sg.writer.entries))
    if case == "inject_member":
        row = _forged_row(
            sg,
            nxt.add_member(server_key, uuid.uuid4(), public_bytes(server_key), "member", now_ms()),
        )
        session.add(row)
    elif case == "inject_device":
        row = _forged_row(
            sg,
            nxt.add_device(
                server_key,
                uuid.UUID(sg.g.member.id),
                uuid.uuid4(),
                public_bytes(server_key),
                now_ms(),
            ),
        )
        session.add(row)
    elif case == "drop_entry":
        await session.execute(delete(GroupLogEntry).where(GroupLogEntry.seq == 1))
    else:
        await session.execute(update(GroupLogEntry).where(GroupLogEntry.seq == 1).values(seq=99))
        await session.execute(update(GroupLogEntry).where(GroupLogEntry.seq == 2).values(seq=1))
        await session.execute(update(GroupLogEntry).where(GroupLogEntry.seq == 99).values(seq=2))
    await session.commit()
    with pytest.raises(error):
        await _client_view(client, sg, sg.g.observer)


async def test_fork_between_two_clients_is_proven(client: httpx.AsyncClient, session: AsyncSession):
    """A server showing two clients different entries at one seq is caught with a proof."""
    from cordon_client.crypto import detect_fork, verify_fork_proof

    sg = await _signed_group(client, session)
    gid = uuid.UUID(sg.g.group_id)
    first_view = await _client_view(client, sg, sg.g.observer)
    alt = LogWriter(gid, sg.writer.entries[:2]).add_device(
        sg.member_key,
        uuid.UUID(sg.g.member.id),
        uuid.uuid4(),
        public_bytes(Ed25519PrivateKey.generate()),
        now_ms(),
    )
    row = (await session.scalars(select(GroupLogEntry).where(GroupLogEntry.seq == 2))).one()
    row.entry_json, row.entry_hash = json.dumps(alt.to_json()), alt.entry_hash()
    await session.commit()
    second_view = await _client_view(client, sg, sg.g.co_coordinator)
    with pytest.raises(cx.ForkError) as caught:
        detect_fork(first_view, second_view)
    proof = caught.value.proof
    assert verify_fork_proof(first_view.root_key, gid, proof) == caught.value.evidence


async def test_prekeys_directory(client: httpx.AsyncClient, session: AsyncSession):
    """Devices publish signed prekeys; members fetch them; forgeries and outsiders are refused."""
    g = await f.group_with_roles(client, session)
    assert g.member.signing_key is not None
    device_id = uuid.UUID(g.member.device_id)
    _, prekey = make_prekey(g.member.signing_key, device_id, 1, now_ms())
    url = "/api/v1/devices/me/prekeys"
    r = await client.post(url, headers=g.member.headers, json={"prekey": prekey.to_json()})
    assert r.status_code == 201, r.text
    assert_problem(
        await client.post(url, headers=g.member.headers, json={"prekey": prekey.to_json()}),
        409,
        "keys.prekey_exists",
    )
    assert_problem(
        await client.post(url, headers=g.observer.headers, json={"prekey": prekey.to_json()}),
        422,
        "keys.malformed",
    )
    _, foreign = make_prekey(Ed25519PrivateKey.generate(), device_id, 2, now_ms())
    assert_problem(
        await client.post(url, headers=g.member.headers, json={"prekey": foreign.to_json()}),
        422,
        "keys.malformed",
    )
    keys = (
        await client.get(f"/api/v1/groups/{g.group_id}/keys", headers=g.observer.headers)
    ).json()
    by_device = {k["device_id"]: k for k in keys}
    assert by_device[g.member.device_id]["prekeys"] == [prekey.to_json()]
    assert g.outsider.device_id not in by_device
    assert_problem(
        await client.get(f"/api/v1/groups/{g.group_id}/keys", headers=g.outsider.headers),
        404,
        "group.not_found",
    )


async def test_member_key_directory(client: httpx.AsyncClient, session: AsyncSession):
    """A member key is published once; group members see it; a different key is refused."""
    g = await f.group_with_roles(client, session)
    key = f.b64(public_bytes(Ed25519PrivateKey.generate()))
    url = "/api/v1/devices/me/member-key"
    r = await client.put(url, headers=g.member.headers, json={"member_key": key})
    assert r.status_code == 200 and r.json() == {"user_id": g.member.id, "member_key": key}
    assert (
        await client.put(url, headers=g.member.headers, json={"member_key": key})
    ).status_code == 200
    other = f.b64(public_bytes(Ed25519PrivateKey.generate()))
    assert_problem(
        await client.put(url, headers=g.member.headers, json={"member_key": other}),
        409,
        "keys.member_key_exists",
    )
    assert_problem(
        await client.put(url, headers=g.member.headers, json={"member_key": key[:-1] + "="}),
        422,
        "keys.malformed",
    )
    listed = (
        await client.get(f"/api/v1/groups/{g.group_id}/member-keys", headers=g.coordinator.headers)
    ).json()
    assert listed == [{"user_id": g.member.id, "member_key": key}]
    await client.put(url, headers=g.outsider.headers, json={"member_key": other})
    listed = (
        await client.get(f"/api/v1/groups/{g.group_id}/member-keys", headers=g.coordinator.headers)
    ).json()
    assert g.outsider.id not in {k["user_id"] for k in listed}
