"""Receipts through their group commit: many devices at once, whole-or-nothing requests."""

import asyncio
import base64
import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.exceptions import InvalidToken
from app.messages import service
from app.messages.exceptions import MessageNotFound, ReceiptNotApplicable
from app.messages.models import Receipt
from app.messages.receipts import Acknowledgement, record_many
from app.messages.schemas import ReceiptCreate
from tests import factories as f
from tests.factories import Actor, GroupSetup
from tests.messages.helpers import post, receipt, ref_of, sync_all


async def _receipt_statuses(client: httpx.AsyncClient, sender: Actor, cursor: str) -> list[Any]:
    """(device, status) of every receipt item the sender got after `cursor`, in order."""
    items, _ = await sync_all(client, sender, cursor)
    bodies = [json.loads(base64.b64decode(i["envelope"])) for i in items if i["kind"] == "receipt"]
    return [(b["device_id"], b["status"]) for b in bodies]


async def _members(
    client: httpx.AsyncClient, session: AsyncSession, g: GroupSetup, n: int
) -> list[Actor]:
    """`n` more members of the group, each with a device."""
    actors = []
    for _ in range(n):
        a = await f.actor(client, session)
        r = await client.post(
            f"/api/v1/groups/{g.group_id}/members",
            headers=g.coordinator.headers,
            json={"user_id": a.id, "role": "member"},
        )
        assert r.status_code == 201, r.text
        actors.append(a)
    return actors


def _receipts(who: Actor, g: GroupSetup, sent: dict[str, Any], *statuses: str) -> dict[str, Any]:
    ref = ref_of(sent)
    return {"receipts": [receipt(who, g.group_id, sent["seq"], s, ref) for s in statuses]}


async def test_many_devices_acknowledging_at_once_are_each_recorded_once(
    client: httpx.AsyncClient, session: AsyncSession
):
    g = await f.group_with_roles(client, session)
    readers = await _members(client, session, g, 12)
    sent = (await post(client, g.member, g.group_id)).json()
    _, cursor = await sync_all(client, g.member)
    for status in ("delivered", "read"):  # every device at once, twice over
        answers = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/receipts", headers=r.headers, json=_receipts(r, g, sent, status)
                )
                for r in readers
            )
        )
        assert [a.status_code for a in answers] == [204] * len(readers)
    pushed = await _receipt_statuses(client, g.member, cursor)
    assert sorted(pushed) == sorted(
        (r.device_id, s) for r in readers for s in ("delivered", "read")
    )
    r = await client.get(
        f"/api/v1/groups/{g.group_id}/messages/{sent['seq']}/receipts", headers=g.member.headers
    )
    assert sorted(x["device_id"] for x in r.json()) == sorted(a.device_id for a in readers)
    assert all(x["read_at"] is not None for x in r.json())


async def test_a_request_is_recorded_whole_or_not_at_all(
    client: httpx.AsyncClient, session: AsyncSession
):
    g = await f.group_with_roles(client, session)
    sent = (await post(client, g.member, g.group_id)).json()
    _, cursor = await sync_all(client, g.member)
    good = receipt(g.observer, g.group_id, sent["seq"], "read", ref_of(sent))
    unknown = receipt(g.observer, g.group_id, sent["seq"] + 50, "read")
    good_too = receipt(g.co_coordinator, g.group_id, sent["seq"], "read", ref_of(sent))
    refused, accepted = await asyncio.gather(
        client.post(
            "/api/v1/receipts", headers=g.observer.headers, json={"receipts": [good, unknown]}
        ),
        client.post(
            "/api/v1/receipts", headers=g.co_coordinator.headers, json={"receipts": [good_too]}
        ),
    )
    f.assert_problem(refused, 404, "messages.not_found")
    assert accepted.status_code == 204
    assert await _receipt_statuses(client, g.member, cursor) == [
        (g.co_coordinator.device_id, "read")
    ]
    rows = await session.scalar(
        select(func.count()).select_from(Receipt).where(Receipt.seq == sent["seq"])
    )
    assert rows == 1


async def test_one_group_commit_judges_each_acknowledgement_on_its_own(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Several acknowledgements in one transaction: refused ones leave no trace, repeats
    inside the batch are no-ops, read implies delivered, and seqs stay gap-free."""
    g = await f.group_with_roles(client, session)
    sent = (await post(client, g.member, g.group_id)).json()
    seq = sent["seq"]

    async def viewer(a: Actor) -> Any:
        return await service.viewer_for(
            session, user_id=uuid.UUID(a.id), device_id=uuid.UUID(a.device_id)
        )

    actors: dict[int, Actor] = {}

    def ack(v: Any, *receipts: tuple[int, str]) -> Acknowledgement:
        signed = [
            receipt(actors[id(v)], g.group_id, s, st, ref_of(sent) if s == seq else None)
            for s, st in receipts
        ]
        return Acknowledgement(v, tuple(ReceiptCreate.model_validate(r) for r in signed))

    coordinator, observer, sender = (
        await viewer(g.coordinator),
        await viewer(g.observer),
        await viewer(g.member),
    )
    actors.update({id(coordinator): g.coordinator, id(observer): g.observer, id(sender): g.member})
    head = (await service.heads(session, group_ids=[uuid.UUID(g.group_id)]))[uuid.UUID(g.group_id)]
    problems = await record_many(
        session,
        [
            ack(coordinator, (seq, "delivered"), (seq, "delivered")),
            ack(observer, (seq, "read"), (seq + 99, "read")),  # refused whole
            ack(coordinator, (seq, "read")),
            ack(sender, (seq, "read")),  # the sender's own device: nothing to record
        ],
    )
    await session.commit()
    assert [type(p) if p else None for p in problems] == [None, MessageNotFound, None, None]
    rows = list(await session.scalars(select(Receipt).where(Receipt.seq == seq)))
    assert [(str(r.device_id), r.read_at is not None) for r in rows] == [
        (g.coordinator.device_id, True)
    ]
    heads = await service.heads(session, group_ids=[uuid.UUID(g.group_id)])
    assert heads[uuid.UUID(g.group_id)] == head + 2  # delivered, then read: two receipt items
    receipt_seq = head + 1
    (problem,) = await record_many(session, [ack(observer, (receipt_seq, "read"))])
    assert isinstance(problem, MessageNotFound)  # receipts go to the sender only
    (problem,) = await record_many(session, [ack(sender, (receipt_seq, "read"))])
    assert isinstance(problem, ReceiptNotApplicable)  # no receipts for receipts


async def test_a_socket_viewer_loses_its_receipts_with_its_access(
    client: httpx.AsyncClient, session: AsyncSession, app: Any
):
    """A viewer is read once, when a socket authenticates; receipts it sends after its user
    was disabled, its device revoked or its membership ended are refused, none written."""
    g = await f.group_with_roles(client, session)
    (leaver,) = await _members(client, session, g, 1)
    sent = (await post(client, g.member, g.group_id)).json()
    seq = sent["seq"]
    source = app.state.realtime.source
    disabled = await source.authenticate(g.observer.token)
    revoked = await source.authenticate(g.co_coordinator.token)
    removed = await source.authenticate(leaver.token)
    admin = await f.actor(client, session, admin=True, totp=True)
    for r in (
        await client.post(f"/api/v1/users/{g.observer.id}/disable", headers=admin.headers),
        await client.post(
            f"/api/v1/devices/{g.co_coordinator.device_id}/revoke",
            headers=g.co_coordinator.headers,
        ),
        await client.delete(
            f"/api/v1/groups/{g.group_id}/members/{leaver.id}", headers=g.coordinator.headers
        ),
    ):
        assert r.status_code in (200, 204), r.text
    for viewer, actor, refusal in (
        (disabled, g.observer, InvalidToken),
        (revoked, g.co_coordinator, InvalidToken),
        (removed, leaver, MessageNotFound),
    ):
        signed = receipt(actor, g.group_id, seq, "read", ref_of(sent))
        with pytest.raises(refusal):
            await app.state.receipts.record(viewer, [ReceiptCreate.model_validate(signed)])
    rows = await session.scalar(select(func.count()).select_from(Receipt).where(Receipt.seq == seq))
    assert rows == 0
