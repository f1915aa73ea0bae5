"""The websocket endpoint against a real uvicorn: auth, push, resume, isolation, closing."""

import asyncio
import base64
import json
import socket
import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.asyncio.client import connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import Protocol, Side, State
from websockets.uri import parse_uri

from app.messages import cursor as cursor_codec
from tests import factories as f
from tests.e2e.server import Server, recv, recv_items, recv_until, running, ws_connect
from tests.messages.helpers import post, ref_of
from tests.messages.helpers import receipt as signed_receipt

pytestmark = pytest.mark.e2e


async def closed_with(ws: object, timeout: float = 10) -> int:
    """Read until the server closes; return its close code."""
    frames = 0
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)  # type: ignore[attr-defined]
            frames += 1
    except ConnectionClosed as exc:
        assert exc.rcvd is not None, "closed without a close frame"
        return exc.rcvd.code
    except TimeoutError:
        raise AssertionError(f"still open after {timeout}s ({frames} frames read)") from None


async def stalled_socket(server: Server, token: str) -> socket.socket:
    """A client that authenticates and then never reads: a tiny receive buffer, raw bytes."""
    protocol = ClientProtocol(parse_uri(server.ws_url))
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    protocol.send_request(protocol.connect())
    for chunk in protocol.data_to_send():
        sock.sendall(chunk)
    sock.settimeout(10)
    response = b""
    while b"\r\n\r\n" not in response:  # the 101, byte by byte: nothing after it is read
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    protocol.state = State.OPEN
    protocol.send_text(json.dumps({"type": "auth", "token": token}).encode())
    for chunk in protocol.data_to_send():
        sock.sendall(chunk)
    sock.setblocking(False)
    return sock


async def stalled_close_code(sock: socket.socket, timeout: float) -> int | None:
    """Let the stalled client read at last; the close code the server sent, or None when the
    server had to drop the TCP connection because not even the close frame could be written."""
    loop = asyncio.get_running_loop()
    protocol = Protocol(Side.CLIENT, state=State.OPEN, max_size=None)
    deadline = loop.time() + timeout
    try:
        while loop.time() < deadline:
            data = await asyncio.wait_for(loop.sock_recv(sock, 65536), timeout)
            if not data:
                return None
            protocol.receive_data(data)
            for event in protocol.events_received():
                if isinstance(event, Frame) and event.opcode is Opcode.CLOSE:
                    return Close.parse(event.data).code
    finally:
        sock.close()
    raise AssertionError("the stalled client was never closed")


async def stalled_read(sock: socket.socket, timeout: float) -> tuple[list[int], int | None]:
    """Let the stalled client read at last: the seqs of the items it had been sent, and the
    close code that followed them (None if the connection ended without a close frame)."""
    loop = asyncio.get_running_loop()
    protocol = Protocol(Side.CLIENT, state=State.OPEN, max_size=None)
    seqs: list[int] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                data = await loop.sock_recv(sock, 65536)
                if not data:
                    return seqs, None
                protocol.receive_data(data)
                for event in protocol.events_received():
                    if isinstance(event, Frame) and event.opcode is Opcode.CLOSE:
                        return seqs, Close.parse(event.data).code
                    if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                        frame = json.loads(event.data)
                        if frame["type"] == "item":
                            seqs.append(frame["seq"])
    except TimeoutError:
        raise AssertionError(f"no close after {len(seqs)} items in {timeout}s") from None
    finally:
        sock.close()


async def live_client(server: Server) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.base, timeout=10)


async def test_items_are_pushed_in_order(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """Items posted through the server reach a connected member in seq order."""
    g = await f.group_with_roles(client, session)
    ws = await ws_connect(server, g.observer.token)
    await recv_until(ws, "caught_up")
    async with await live_client(server) as live:
        sent = [(await post(live, g.member, g.group_id, f"m{i}")).json()["seq"] for i in range(10)]
    got = await recv_items(ws, 10)
    assert [i["seq"] for i in got] == sent
    await ws.close()


async def test_resume_has_no_gap_and_no_duplicate(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """A device reconnecting with its cursor gets exactly what it missed, once."""
    g = await f.group_with_roles(client, session)
    ws = await ws_connect(server, g.member.token)
    cursor = (await recv_until(ws, "caught_up"))[-1]["cursor"]
    async with await live_client(server) as live:
        first = [(await post(live, g.coordinator, g.group_id)).json()["seq"] for _ in range(3)]
        seen = await recv_items(ws, 3)
        await ws.close()
        missed = [(await post(live, g.coordinator, g.group_id)).json()["seq"] for _ in range(5)]
    resumed_cursor = cursor_codec.encode({uuid.UUID(g.group_id): seen[-1]["seq"]})
    ws = await ws_connect(server, g.member.token, resumed_cursor)
    frames = await recv_until(ws, "caught_up")
    replayed = [x["seq"] for x in frames if x["type"] == "item" and x["kind"] == "alert"]
    assert [x["seq"] for x in seen] == first
    assert replayed == missed
    assert cursor  # the first caught_up carried a cursor too
    await ws.close()


async def test_bad_tokens_are_refused(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """A wrong token, a missing auth frame or a non-auth first frame closes with 4001."""
    for first in ({"type": "auth", "token": "cdn_nope"}, {"type": "auth"}, {"type": "ping"}):
        async with connect(server.ws_url) as ws:
            await ws.send(json.dumps(first))
            assert await closed_with(ws) == 4001


async def test_header_and_subprotocol_auth(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """The token may come in the Authorization header or a subprotocol, never the URL."""
    a = await f.actor(client, session)
    async with connect(
        server.ws_url, additional_headers={"Authorization": f"Bearer {a.token}"}
    ) as ws:
        await ws.send(json.dumps({"type": "auth"}))
        assert (await recv(ws))["type"] == "ready"
    async with connect(server.ws_url, subprotocols=["cordon.v1", f"cordon.bearer.{a.token}"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "cordon.v1"
        await ws.send(json.dumps({"type": "auth"}))
        assert (await recv(ws))["type"] == "ready"


async def test_foreign_origins_are_refused(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """Browsers from an origin not in the allow-list cannot open a socket."""
    with pytest.raises(InvalidStatus):
        async with connect(server.ws_url, origin="https://evil.example"):  # type: ignore[arg-type]
            pass
    async with connect(server.ws_url, origin="https://cordon.example") as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"type": "auth", "token": "x"}))
        assert await closed_with(ws) == 4001


async def test_bad_frames_close_with_4400(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """Malformed JSON, unknown frame types and binary frames close with 4400; the server
    keeps serving others."""
    a = await f.actor(client, session)
    for bad in ("{not json", json.dumps({"type": "launch"}), b"\x00\x01", json.dumps([1])):
        ws = await ws_connect(server, a.token)
        await recv_until(ws, "caught_up")
        await ws.send(bad)
        assert await closed_with(ws) == 4400
    async with connect(server.ws_url) as ws:  # a bad cursor in the auth frame
        await ws.send(json.dumps({"type": "auth", "token": a.token, "cursor": "garbage"}))
        assert await closed_with(ws) == 4400
    ws = await ws_connect(server, a.token)
    await recv_until(ws, "caught_up")
    await ws.send(json.dumps({"type": "ping"}))
    assert (await recv(ws))["type"] == "pong"
    await ws.close()


async def test_cross_group_isolation(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """A socket receives nothing from groups its user is not in, nor others' targeted items."""
    a = await f.group_with_roles(client, session)
    b = await f.group_with_roles(client, session)
    ws = await ws_connect(server, a.observer.token)
    await recv_until(ws, "caught_up")
    async with await live_client(server) as live:
        await post(live, b.member, b.group_id, "other group")
        await post(
            live, a.member, a.group_id, kind="sender_key", recipients=[a.coordinator.device_id]
        )
        marker = (await post(live, a.member, a.group_id, "marker")).json()["seq"]
    got = await recv_items(ws, 1, kinds=("alert", "sender_key"))
    assert [(x["group_id"], x["seq"]) for x in got] == [(a.group_id, marker)]
    await ws.close()


async def test_receipts_are_pushed_to_the_sender(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """A read receipt sent over the socket reaches the sender's socket live."""
    g = await f.group_with_roles(client, session)
    sender = await ws_connect(server, g.member.token)
    reader = await ws_connect(server, g.coordinator.token)
    await recv_until(sender, "caught_up")
    await recv_until(reader, "caught_up")
    async with await live_client(server) as live:
        seq = (
            await post(
                live, g.member, g.group_id, kind="sender_key", recipients=[g.coordinator.device_id]
            )
        ).json()["seq"]
    (item,) = await recv_items(reader, 1, kinds=("sender_key",))
    signed = signed_receipt(g.coordinator, g.group_id, seq, "read", ref_of(item))
    await reader.send(json.dumps({"type": "receipt", **signed}))
    (receipt,) = await recv_items(sender, 1, kinds=("receipt",))
    body = json.loads(base64.b64decode(receipt["envelope"]))
    assert (body["seq"], body["status"], body["device_id"]) == (
        seq,
        "read",
        g.coordinator.device_id,
    )
    assert item["seq"] == seq
    await sender.close()
    await reader.close()


async def test_revoked_device_is_disconnected(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """Revoking a device closes its open socket at once with 4003, and it cannot return."""
    a = await f.actor(client, session)
    ws = await ws_connect(server, a.token)
    await recv_until(ws, "caught_up")
    async with await live_client(server) as live:
        r = await live.post(f"/api/v1/devices/{a.device_id}/revoke", headers=a.headers)
        assert r.status_code == 200, r.text
    assert await closed_with(ws) == 4003
    async with connect(server.ws_url) as again:
        await again.send(json.dumps({"type": "auth", "token": a.token}))
        assert await closed_with(again) == 4001


async def test_logout_closes_the_devices_sockets(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """Logging out ends the device's live connection too, not only its HTTP token."""
    a = await f.actor(client, session)
    ws = await ws_connect(server, a.token)
    await recv_until(ws, "caught_up")
    async with await live_client(server) as live:
        r = await live.post("/api/v1/auth/logout", headers=a.headers)
        assert r.status_code == 204, r.text
    assert await closed_with(ws) == 4003


async def test_silent_client_is_closed_as_unauthenticated(database_url: str):
    """A socket that never sends its auth frame is closed with 4001 after the auth window."""
    with running(database_url, CORDON_WS_AUTH_SECONDS="1") as quick:
        async with connect(quick.ws_url) as ws:
            assert await closed_with(ws) == 4001


async def test_removed_member_is_disconnected(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """Removing a member closes their sockets at once; reconnected, they see nothing new."""
    g = await f.group_with_roles(client, session)
    ws = await ws_connect(server, g.member.token)
    await recv_until(ws, "caught_up")
    async with await live_client(server) as live:
        r = await live.delete(
            f"/api/v1/groups/{g.group_id}/members/{g.member.id}", headers=g.coordinator.headers
        )
        assert r.status_code == 204, r.text
        assert await closed_with(ws) == 4003
        ws = await ws_connect(server, g.member.token)
        await recv_until(ws, "caught_up")
        await post(live, g.coordinator, g.group_id, "after removal")
    with pytest.raises(AssertionError, match="no frame"):
        await recv(ws, timeout=1)
    await ws.close()


async def test_slow_consumer_is_closed_without_delaying_others(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """A socket that stops reading is disconnected (close 4008) while a reading one, on the
    same group at the same time, gets every item in order."""
    g = await f.group_with_roles(client, session)
    slow = await stalled_socket(server, g.observer.token)
    fast = await ws_connect(server, g.member.token)
    await recv_until(fast, "caught_up")
    big = "x" * 60_000
    reading = asyncio.create_task(recv_items(fast, 150, timeout=30))
    async with await live_client(server) as live:
        await asyncio.gather(*(post(live, g.coordinator, g.group_id, big) for _ in range(150)))
    got = await reading
    # The slow socket, still not reading, outlives the 2 s send timeout with room to spare: if
    # it read before the server gave up on it, it would drain the backlog and never be closed.
    await asyncio.sleep(5)
    assert sorted(x["seq"] for x in got) == [x["seq"] for x in got]
    assert len({x["seq"] for x in got}) == 150
    code = await stalled_close_code(slow, timeout=20)
    assert code == 4008
    await fast.close()


async def test_a_reader_that_stops_reading_is_closed_by_the_pong_deadline(
    database_url: str, client: httpx.AsyncClient, session: AsyncSession
):
    """The real case: a reader that stops while what it was sent (2.8 MB) still fits the
    kernel's buffers, so no write ever blocks. The unanswered ping closes it with 4008
    within ping interval + pong timeout; an item posted after that bound never reaches it,
    while a reading member of the same group gets every item in order."""
    with running(
        database_url,
        CORDON_WS_PING_SECONDS="1",
        CORDON_WS_PONG_TIMEOUT_SECONDS="2",
        CORDON_WS_CLOSE_SECONDS="60",
    ) as server:
        g = await f.group_with_roles(client, session)
        slow = await stalled_socket(server, g.observer.token)
        fast = await ws_connect(server, g.member.token)
        await recv_until(fast, "caught_up")
        reading = asyncio.create_task(recv_items(fast, 36, timeout=30))
        async with await live_client(server) as live:
            for _ in range(35):
                assert (await post(live, g.coordinator, g.group_id, "x" * 60_000)).is_success
            await asyncio.sleep(1 + 2 + 2)  # the documented bound, and a margin
            late = await post(live, g.coordinator, g.group_id, "after the bound")
            assert late.is_success, late.text
        got = [x["seq"] for x in await reading]
        assert got == sorted(got) and len(set(got)) == 36
        assert got[-1] == late.json()["seq"]
        seqs, code = await stalled_read(slow, timeout=20)
        assert code == 4008
        assert late.json()["seq"] not in seqs
        assert seqs == sorted(seqs)
        await fast.close()
