"""Slowloris against a real uvicorn, with real sockets that stall: headers that never end,
bodies shorter than announced, chunked bodies that never finish, bodies trickled a byte at a
time, silent connections, and oversized header blocks (the deadlines are set short here)."""

import asyncio
import json
import time
from collections.abc import Iterator

import pytest

from tests.e2e.server import Server, running

pytestmark = pytest.mark.e2e
DEADLINE = 1.0
MARGIN = 4.0  # a bound against hanging on a loaded machine, not a speed check


@pytest.fixture(scope="module")
def slow_server(database_url: str) -> Iterator[Server]:
    with running(
        database_url,
        CORDON_HTTP_HEADER_SECONDS=str(DEADLINE),
        CORDON_HTTP_BODY_IDLE_SECONDS=str(DEADLINE),
        CORDON_HTTP_BODY_MIN_RATE="1000",
        CORDON_HTTP_MAX_HEADER_BYTES="65536",
    ) as server:
        yield server


async def _open(server: Server) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


async def _answer(reader: asyncio.StreamReader, within: float) -> tuple[int | None, bytes, float]:
    """Everything the server sends until it closes: (status, body, seconds until closed)."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(within):
            raw = await reader.read()
    except TimeoutError:
        raise AssertionError(f"the connection was still open after {within} s") from None
    elapsed = time.monotonic() - started
    if not raw:
        return None, b"", elapsed
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body, elapsed


def _code(body: bytes) -> str:
    code: str = json.loads(body)["code"]
    return code


async def test_headers_that_never_end_get_408(slow_server: Server):
    reader, writer = await _open(slow_server)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")

    async def trickle() -> None:
        for i in range(100):
            writer.write(f"X-Slow-{i}: y\r\n".encode())
            await asyncio.sleep(0.2)

    dripping = asyncio.create_task(trickle())
    try:
        status, body, _ = await _answer(reader, DEADLINE + MARGIN)
    finally:
        dripping.cancel()
        writer.close()
    assert status == 408 and _code(body) == "core.request_timeout"


async def test_a_silent_connection_is_closed(slow_server: Server):
    reader, writer = await _open(slow_server)
    status, _, _ = await _answer(reader, DEADLINE + MARGIN)
    writer.close()
    assert status is None


async def test_a_body_shorter_than_announced_gets_408(slow_server: Server):
    reader, writer = await _open(slow_server)
    writer.write(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user'
    )
    status, body, _ = await _answer(reader, DEADLINE + MARGIN)
    writer.close()
    assert status == 408 and _code(body) == "core.request_timeout"


async def test_an_unfinished_chunked_body_gets_408(slow_server: Server):
    reader, writer = await _open(slow_server)
    writer.write(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5\r\n{"use\r\n'
    )
    status, body, _ = await _answer(reader, DEADLINE + MARGIN)
    writer.close()
    assert status == 408 and _code(body) == "core.request_timeout"


async def test_a_trickled_body_is_dropped_by_the_minimum_rate(slow_server: Server):
    """A byte every half deadline never trips the idle limit, only the 1000 B/s rate."""
    reader, writer = await _open(slow_server)
    writer.write(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n"
    )

    async def trickle() -> None:
        for _ in range(200):
            writer.write(b" ")
            await asyncio.sleep(DEADLINE / 2)

    dripping = asyncio.create_task(trickle())
    try:
        status, body, _ = await _answer(reader, 2 * DEADLINE + MARGIN)
    finally:
        dripping.cancel()
        writer.close()
    assert status == 408 and _code(body) == "core.request_timeout"


@pytest.mark.parametrize(("size", "expected"), [(60_000, 200), (70_000, 431), (200_000, 431)])
async def test_header_blocks_are_limited_to_64_kib(slow_server: Server, size: int, expected: int):
    reader, writer = await _open(slow_server)
    writer.write(
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + b"X-Big: "
        + b"a" * size
        + b"\r\n\r\n"
    )
    status, body, _ = await _answer(reader, DEADLINE + MARGIN)
    writer.close()
    assert status == expected
    if expected == 431:
        assert _code(body) == "core.headers_too_large"


async def test_a_prompt_client_keeps_its_connection_across_requests(slow_server: Server):
    """Deadlines only bound stalls: requests sent whole on one kept-alive connection, with
    pauses between them shorter than the keep-alive timeout, are all answered."""
    reader, writer = await _open(slow_server)
    for _ in range(3):
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        await asyncio.sleep(DEADLINE * 1.5)  # longer than the header deadline, while idle
    writer.close()
