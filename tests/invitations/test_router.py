"""Invitations and join requests on the server: storage, the invitation as capability,
problem documents, and that outsiders learn nothing."""

import uuid
from datetime import timedelta

import httpx
from cordon_client.account.client import now_ms
from cordon_client.crypto import LogWriter, public_bytes
from cordon_client.crypto._encoding import b64d, b64e
from cordon_client.crypto.invite import Invitation, check_join_mac, join_mac
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.types import utcnow
from app.invitations.models import GroupInvitation, JoinRequest
from tests import factories as f
from tests.factories import assert_problem


async def _opened(client: httpx.AsyncClient, session: AsyncSession):  # type: ignore[no-untyped-def]
    """A group whose coordinator opened the log, and one registered invitation."""
    g = await f.group_with_roles(client, session)
    gid = uuid.UUID(g.group_id)
    root = Ed25519PrivateKey.generate()
    genesis = LogWriter(gid).genesis(root, now_ms())
    r = await client.post(
        f"/api/v1/groups/{gid}/log",
        headers=g.coordinator.headers,
        json={"entry": genesis.to_json()},
    )
    assert r.status_code == 201, r.text
    inv = Invitation.create(gid, public_bytes(root))
    r = await client.post(
        f"/api/v1/groups/{gid}/invitations",
        headers=g.coordinator.headers,
        json={"invitation_id": b64e(inv.invitation_id)},
    )
    assert r.status_code == 201, r.text
    return g, inv, genesis


def _url(inv: Invitation) -> str:
    return f"/api/v1/groups/{inv.group_id}/invitations/{b64e(inv.invitation_id)}/join-request"


def _answer(inv: Invitation, user_id: str, key: bytes) -> dict[str, str]:
    return {"member_key": b64e(key), "mac": b64e(join_mac(inv, uuid.UUID(user_id), key))}


async def test_outsider_answers_an_invitation_and_gets_the_genesis(
    client: httpx.AsyncClient, session: AsyncSession
):
    """The invitation is the capability: a non-member posts once, gets the genesis entry to
    check its root, and the coordinator sees the request with a MAC that verifies."""
    g, inv, genesis = await _opened(client, session)
    key = public_bytes(Ed25519PrivateKey.generate())
    r = await client.post(
        _url(inv), headers=g.outsider.headers, json=_answer(inv, g.outsider.id, key)
    )
    assert r.status_code == 201, r.text
    assert r.json()["genesis"] == genesis.to_json()
    listed = await client.get(
        f"/api/v1/groups/{inv.group_id}/join-requests", headers=g.coordinator.headers
    )
    assert listed.status_code == 200
    (request,) = listed.json()
    assert request["user_id"] == g.outsider.id and request["member_key"] == b64e(key)
    check_join_mac(inv, uuid.UUID(request["user_id"]), key, b64d(request["mac"], length=32))


async def test_without_an_open_invitation_the_group_does_not_exist(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A wrong, malformed or closed invitation id gets the 404 of a missing group."""
    g, inv, _ = await _opened(client, session)
    body = _answer(inv, g.outsider.id, public_bytes(Ed25519PrivateKey.generate()))
    missing = await client.post(
        f"/api/v1/groups/{uuid.uuid4()}/invitations/{b64e(inv.invitation_id)}/join-request",
        headers=g.outsider.headers,
        json=body,
    )
    expected = assert_problem(missing, 404, "group.not_found")
    other = Invitation.create(inv.group_id, b"\x00" * 32)
    for url in (
        _url(other),
        f"/api/v1/groups/{inv.group_id}/invitations/not-base64!/join-request",
    ):
        r = await client.post(url, headers=g.outsider.headers, json=body)
        assert r.status_code == 404 and r.json() == expected
    r = await client.delete(
        f"/api/v1/groups/{inv.group_id}/invitations/{b64e(inv.invitation_id)}",
        headers=g.coordinator.headers,
    )
    assert r.status_code == 204
    r = await client.post(_url(inv), headers=g.outsider.headers, json=body)
    assert r.status_code == 404 and r.json() == expected


async def test_one_invitation_one_user_and_malformed_input(
    client: httpx.AsyncClient, session: AsyncSession
):
    """The same user may re-answer (replacing it); another user gets a 409; bad base64 a 422;
    nothing is half-written."""
    g, inv, _ = await _opened(client, session)
    key = public_bytes(Ed25519PrivateKey.generate())
    for _ in range(2):
        r = await client.post(
            _url(inv), headers=g.member.headers, json=_answer(inv, g.member.id, key)
        )
        assert r.status_code == 201, r.text
    taken = await client.post(
        _url(inv), headers=g.outsider.headers, json=_answer(inv, g.outsider.id, key)
    )
    assert_problem(taken, 409, "invitation.used")
    bad = await client.post(
        _url(inv), headers=g.member.headers, json={"member_key": "A" * 43, "mac": "*" * 43}
    )
    assert_problem(bad, 422, "invitation.malformed")
    count = await session.scalar(select(func.count()).select_from(JoinRequest))
    assert count == 1


async def test_invitation_registration_rules(client: httpx.AsyncClient, session: AsyncSession):
    """Only the coordinator registers ids; a repeated id is a 409, a bad one a 422; before
    the log is opened an answer is a 409."""
    g = await f.group_with_roles(client, session)
    inv = Invitation.create(uuid.UUID(g.group_id), b"\x01" * 32)
    url = f"/api/v1/groups/{g.group_id}/invitations"
    body = {"invitation_id": b64e(inv.invitation_id)}
    assert_problem(
        await client.post(url, headers=g.member.headers, json=body), 403, "group.role_required"
    )
    assert (await client.post(url, headers=g.coordinator.headers, json=body)).status_code == 201
    assert_problem(
        await client.post(url, headers=g.coordinator.headers, json=body), 409, "invitation.exists"
    )
    assert_problem(
        await client.post(url, headers=g.coordinator.headers, json={"invitation_id": "!" * 22}),
        422,
        "invitation.malformed",
    )
    early = await client.post(
        _url(inv), headers=g.outsider.headers, json=_answer(inv, g.outsider.id, b"\x02" * 32)
    )
    assert_problem(early, 409, "invitation.log_not_opened")
    assert await session.scalar(select(func.count()).select_from(GroupInvitation)) == 1
    gone = await client.delete(f"{url}/{b64e(b'x' * 16)}", headers=g.coordinator.headers)
    assert_problem(gone, 404, "invitation.not_found")


async def test_expired_invitation_is_closed_and_dropped(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Past its expiry an invitation answers like a missing group, and the next registration
    in the group deletes it with its join request."""
    g, inv, _ = await _opened(client, session)
    key = public_bytes(Ed25519PrivateKey.generate())
    r = await client.post(_url(inv), headers=g.member.headers, json=_answer(inv, g.member.id, key))
    assert r.status_code == 201
    row = await session.scalar(select(GroupInvitation))
    assert row is not None
    row.expires_at = utcnow() - timedelta(seconds=1)
    await session.commit()
    late = await client.post(
        _url(inv), headers=g.member.headers, json=_answer(inv, g.member.id, key)
    )
    assert_problem(late, 404, "group.not_found")
    listed = await client.get(
        f"/api/v1/groups/{inv.group_id}/join-requests", headers=g.coordinator.headers
    )
    assert listed.json() == []
    fresh = Invitation.create(inv.group_id, b"\x03" * 32)
    r = await client.post(
        f"/api/v1/groups/{inv.group_id}/invitations",
        headers=g.coordinator.headers,
        json={"invitation_id": b64e(fresh.invitation_id)},
    )
    assert r.status_code == 201
    session.expire_all()
    assert await session.scalar(select(func.count()).select_from(GroupInvitation)) == 1
    assert await session.scalar(select(func.count()).select_from(JoinRequest)) == 0


async def test_an_archived_group_takes_no_join_request(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A closed operation still admits replacements (management goes on); an archived one is
    read-only, so an invitation issued before archiving can no longer be answered."""
    g, inv, _ = await _opened(client, session)
    for status, expected in (("closed", 201), ("archived", 409)):
        r = await client.post(
            f"/api/v1/groups/{inv.group_id}/status",
            headers=g.coordinator.headers,
            json={"status": status},
        )
        assert r.status_code == 200, r.text
        who = g.outsider if status == "closed" else g.member
        key = public_bytes(Ed25519PrivateKey.generate())
        r = await client.post(_url(inv), headers=who.headers, json=_answer(inv, who.id, key))
        if expected == 409:
            assert_problem(r, 409, "group.read_only")
        else:
            assert r.status_code == 201, r.text
