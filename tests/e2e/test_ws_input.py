"""Hostile websocket frames (issue 15, finding 5): the frame decoder shares the HTTP body
reader's limits, and every refusal is a documented close code (4400 bad frame or cursor,
4001 unauthenticated), never 1011; a bad receipt is an `error` frame and the socket lives on."""

import base64
import json
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests import factories as f
from tests.e2e.server import Server, recv, recv_items, recv_until, ws_connect
from tests.messages.helpers import post, ref_of
from tests.messages.helpers import receipt as signed_receipt


async def closed_with(ws: ClientConnection, timeout: float = 10) -> int | None:
    """The close code the server sent, after draining what came before it."""
    try:
        while True:
            await recv(ws, timeout)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def _cursor(payload: bytes) -> str:
    return "c1." + base64.urlsafe_b64encode(payload).decode().rstrip("=")


async def test_hostile_auth_frames_close_with_documented_codes(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """Nested frames, lone surrogates, nested or out-of-range cursors: 4400; the server
    keeps serving the next socket."""
    g = await f.group_with_roles(client, session)
    beyond = _cursor(json.dumps({uuid.UUID(g.group_id).hex: 1_000}).encode())
    hostile = [
        "[" * 30_000 + "]" * 30_000,  # under the frame size limit, past the depth limit
        json.dumps({"type": "auth", "token": "\ud800"}),  # the escape, not the code point
        json.dumps({"type": "auth", "token": g.member.token, "cursor": beyond}),
        json.dumps({"type": "auth", "token": g.member.token, "cursor": _cursor(b"[" * 3000)}),
        json.dumps({"type": "auth", "token": g.member.token, "cursor": ""}),
        json.dumps({"type": "auth", "token": g.member.token, "n": float("nan")}),
    ]
    for frame in hostile:
        async with connect(server.ws_url, max_size=2**22) as ws:
            await ws.send(frame)
            assert await closed_with(ws) == 4400, frame[:80]
    ws = await ws_connect(server, g.member.token)
    await recv_until(ws, "caught_up")
    await ws.close()


async def test_hostile_frames_after_auth_close_with_4400(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """The same limits hold for every frame of an open socket."""
    a = await f.actor(client, session)
    for frame in ("[" * 30_000 + "]" * 30_000, '{"type": "ping", "x": "\\udc00"}'):
        ws = await ws_connect(server, a.token)
        await recv_until(ws, "caught_up")
        await ws.send(frame)
        assert await closed_with(ws) == 4400


async def test_a_receipt_with_an_unbounded_seq_is_an_error_frame(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """`seq` >= 2^63 (or past the column) is refused like any invalid receipt: an `error`
    frame, and the socket still answers."""
    g = await f.group_with_roles(client, session)
    assert (await post(client, g.member, g.group_id)).status_code == 201
    ws = await ws_connect(server, g.observer.token)
    await recv_until(ws, "caught_up")
    for seq in (2**63, 2**31, 2**64 + 7):
        receipt = {"type": "receipt", "group_id": g.group_id, "seq": seq, "status": "read"}
        await ws.send(json.dumps(receipt))
        error = await recv(ws)
        assert error == {"type": "error", "code": "core.invalid_input", "ref": seq}
    await ws.send(json.dumps({"type": "receipt", "group_id": str(uuid.uuid4()), "seq": 1}))
    assert (await recv(ws))["type"] == "error"
    await ws.send(json.dumps({"type": "ping"}))
    assert (await recv(ws))["type"] == "pong"
    await ws.close()


async def test_a_receipts_frame_records_all_or_none(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """A `receipts` frame (a backlog's delivered receipts in one frame) is one group commit:
    every receipt reaches the sender; one bad signature among them refuses the whole frame
    with the problem code and the seqs, nothing recorded; an empty or oversized list is
    `core.invalid_input`; the socket answers after each."""
    g = await f.group_with_roles(client, session)
    seqs = [(await post(client, g.member, g.group_id)).json()["seq"] for _ in range(3)]
    reader = await ws_connect(server, g.observer.token)
    items = {i["seq"]: i for i in await recv_items(reader, 3, kinds=("alert",))}
    await recv_until(reader, "caught_up")
    signed = [
        signed_receipt(g.observer, g.group_id, s, "delivered", ref_of(items[s])) for s in seqs
    ]

    forged = [*signed[:2], {**signed[2], "sig": signed[0]["sig"]}]
    await reader.send(json.dumps({"type": "receipts", "receipts": forged}))
    assert await recv(reader) == {"type": "error", "code": "messages.invalid_receipt", "ref": seqs}
    listed = await client.get(
        f"/api/v1/groups/{g.group_id}/messages/{seqs[0]}/receipts", headers=g.member.headers
    )
    assert listed.status_code == 200 and listed.json() == []  # the good two were not kept

    for bad in ([], [{"seq": 1}] * 501, "x"):
        await reader.send(json.dumps({"type": "receipts", "receipts": bad}))
        error = await recv(reader)
        assert (error["type"], error["code"]) == ("error", "core.invalid_input")

    await reader.send(json.dumps({"type": "receipts", "receipts": signed}))
    await reader.send(json.dumps({"type": "ping"}))  # answered once the receipts are committed
    await recv_until(reader, "pong")  # after the receipt items the reader's own user may read
    for s in seqs:
        listed = await client.get(
            f"/api/v1/groups/{g.group_id}/messages/{s}/receipts", headers=g.member.headers
        )
        assert [r["device_id"] for r in listed.json()] == [g.observer.device_id]
    await reader.close()
