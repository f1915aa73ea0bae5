"""A device's own receipts are not sent back to it (push, catch-up, /sync), against a real
uvicorn: the user's other devices and the item's sender still get them, and positions move
past them so nothing is re-read and nothing else is skipped."""

import base64
import json
import os
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.messages import cursor as cursor_codec
from tests import factories as f
from tests.e2e.server import Server, recv, recv_until, running, ws_connect
from tests.factories import Actor, GroupSetup
from tests.messages.helpers import post, ref_of
from tests.messages.helpers import receipt as signed_receipt

pytestmark = pytest.mark.e2e
REDIS_URL = os.environ.get("CORDON_TEST_REDIS_URL")


async def _items(ws: Any, count: int) -> list[dict[str, Any]]:
    """The next `count` item frames, whatever their kind (other frames are skipped)."""
    items: list[dict[str, Any]] = []
    while len(items) < count:
        frame = await recv(ws)
        if frame["type"] == "item":
            items.append(frame)
    return items


def _receipt_of(item: dict[str, Any]) -> tuple[int, str, str]:
    body = json.loads(base64.b64decode(item["envelope"]))
    return body["seq"], body["status"], body["device_id"]


async def _page(
    live: httpx.AsyncClient, who: Actor, g: GroupSetup, cursor: str | None, limit: int
) -> dict[str, Any]:
    r = await live.get(
        "/api/v1/sync",
        headers=who.headers,
        params={"group_id": g.group_id, "limit": limit, **({"cursor": cursor} if cursor else {})},
    )
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


def _at(g: GroupSetup, seq: int) -> str:
    return cursor_codec.encode({uuid.UUID(g.group_id): seq})


async def _pages(
    live: httpx.AsyncClient, who: Actor, g: GroupSetup, cursor: str | None, limit: int
) -> list[dict[str, Any]]:
    """Every /sync page from `cursor` until `has_more` is false; at most 10, so a paging loop
    fails the test instead of hanging it."""
    pages: list[dict[str, Any]] = []
    for _ in range(10):
        page = await _page(live, who, g, cursor, limit)
        pages.append(page)
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return pages
    raise AssertionError(f"/sync still had more after 10 pages: {pages}")


async def _post_receipts(
    live: httpx.AsyncClient, reader: Actor, g: GroupSetup, items: list[Any], status: str
) -> None:
    """`reader` posts its signed receipts for `items` in one batch, accepted."""
    receipts = [signed_receipt(reader, g.group_id, i["seq"], status, ref_of(i)) for i in items]
    r = await live.post("/api/v1/receipts", headers=reader.headers, json={"receipts": receipts})
    assert r.status_code == 204, r.text


async def test_own_receipts_are_pushed_and_synced_to_everyone_but_their_device(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    g = await f.group_with_roles(client, session)
    reader = g.co_coordinator  # signs the receipt
    twin = await f.login(client, reader.user)  # the same user's second device
    sockets = {
        "sender": await ws_connect(server, g.member.token),
        "reader": await ws_connect(server, reader.token),
        "twin": await ws_connect(server, twin.token),
    }
    for ws in sockets.values():
        await recv_until(ws, "caught_up")
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as live:
        alert = (await post(live, g.member, g.group_id, "first")).json()
        for ws in sockets.values():
            assert [i["seq"] for i in await _items(ws, 1)] == [alert["seq"]]
        signed = signed_receipt(reader, g.group_id, alert["seq"], "read", ref_of(alert))
        await sockets["reader"].send(json.dumps({"type": "receipt", **signed}))
        receipt_seq = alert["seq"] + 1
        for name in ("sender", "twin"):
            (pushed,) = await _items(sockets[name], 1)
            assert (pushed["seq"], pushed["kind"]) == (receipt_seq, "receipt"), name
            assert _receipt_of(pushed) == (alert["seq"], "read", reader.device_id)
        after = (await post(live, g.member, g.group_id, "second")).json()
        assert after["seq"] == receipt_seq + 1
        # The signing device's next item frame is the alert after its receipt: never the receipt.
        (next_item,) = await _items(sockets["reader"], 1)
        assert (next_item["seq"], next_item["kind"]) == (after["seq"], "alert")
        for name in ("sender", "twin"):
            assert [i["seq"] for i in await _items(sockets[name], 1)] == [after["seq"]]

        before = _at(g, alert["seq"])
        synced = {}
        for name, who in (("sender", g.member), ("reader", reader), ("twin", twin)):
            page = await _page(live, who, g, before, 500)
            assert page["has_more"] is False
            assert cursor_codec.decode(page["next_cursor"]) == {uuid.UUID(g.group_id): after["seq"]}
            synced[name] = [(i["seq"], i["kind"]) for i in page["items"]]
        assert synced["reader"] == [(after["seq"], "alert")]
        assert (
            synced["sender"]
            == synced["twin"]
            == [
                (receipt_seq, "receipt"),
                (after["seq"], "alert"),
            ]
        )

        # The websocket catch-up (a reconnect from before the receipt) follows the same rule.
        for ws in sockets.values():
            await ws.close()
        resumed = await ws_connect(server, reader.token, before)
        frames = await recv_until(resumed, "caught_up")
        assert [(x["seq"], x["kind"]) for x in frames if x["type"] == "item"] == [
            (after["seq"], "alert")
        ]
        assert cursor_codec.decode(frames[-1]["cursor"])[uuid.UUID(g.group_id)] == after["seq"]
        await resumed.close()


async def test_sync_pages_over_a_boundary_made_of_own_receipts(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """Pages whose scanned rows are all the device's own receipts come back empty with
    `has_more` and a cursor past them, until the items after them; nothing loops or is lost."""
    g = await f.group_with_roles(client, session)
    reader = g.co_coordinator
    twin = await f.login(client, reader.user)
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as live:
        alerts = [(await post(live, g.member, g.group_id, f"a{n}")).json() for n in range(4)]
        start = alerts[-1]["seq"]
        await _post_receipts(live, reader, g, alerts, "delivered")
        receipts = list(range(start + 1, start + 5))  # four receipt items
        last = (await post(live, g.member, g.group_id, "after")).json()
        assert last["seq"] == receipts[-1] + 1

        pages = await _pages(live, reader, g, _at(g, start), 2)
        assert [
            (
                [i["seq"] for i in page["items"]],
                cursor_codec.decode(page["next_cursor"])[uuid.UUID(g.group_id)],
                page["has_more"],
            )
            for page in pages
        ] == [
            ([], receipts[1], True),
            ([], receipts[3], True),
            ([last["seq"]], last["seq"], False),
        ]
        # Caught up: the same cursor again gives nothing more, and stays put.
        cursor = pages[-1]["next_cursor"]
        again = await _page(live, reader, g, cursor, 2)
        assert (again["items"], again["next_cursor"], again["has_more"]) == ([], cursor, False)

        # The twin and the sender page through the same rows and get every receipt.
        for who in (twin, g.member):
            seen = [
                i["seq"] for p in await _pages(live, who, g, _at(g, start), 2) for i in p["items"]
            ]
            assert seen == [*receipts, last["seq"]]


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="CORDON_TEST_REDIS_URL not set")
async def test_own_receipts_stay_home_across_processes(
    database_url: str, client: httpx.AsyncClient, session: AsyncSession
):
    """A receipt recorded by process B reaches, through Redis, the twin device on process A
    but not the signing device, also on A."""
    g = await f.group_with_roles(client, session)
    reader = g.co_coordinator
    twin = await f.login(client, reader.user)
    with running(database_url, REDIS_URL) as a, running(database_url, REDIS_URL) as b:
        on_a = [await ws_connect(a, reader.token), await ws_connect(a, twin.token)]
        for ws in on_a:
            await recv_until(ws, "caught_up")
        async with httpx.AsyncClient(base_url=b.base, timeout=10) as live:
            alert = (await post(live, g.member, g.group_id)).json()
            await _post_receipts(live, reader, g, [alert], "read")
            after = (await post(live, g.member, g.group_id)).json()
        mine = [(i["seq"], i["kind"]) for i in await _items(on_a[0], 2)]
        twins = [(i["seq"], i["kind"]) for i in await _items(on_a[1], 3)]
        assert mine == [(alert["seq"], "alert"), (after["seq"], "alert")]
        assert twins == [
            (alert["seq"], "alert"),
            (alert["seq"] + 1, "receipt"),
            (after["seq"], "alert"),
        ]
        for ws in on_a:
            await ws.close()
