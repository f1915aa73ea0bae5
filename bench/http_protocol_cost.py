"""CPU per request of `CordonHttpProtocol` against uvicorn's `HttpToolsProtocol`, interleaved.

    python bench/http_protocol_cost.py [--requests 20000] [--rounds 5]

Feeds a kept-alive connection a typical message post (headers and a 1.5 KB JSON body in one
read, as a client writes it) into each protocol, with a fake transport and an ASGI app that
reads the body and answers 201 at once, so what is measured is the protocol's own work per
request (parsing, timers, the request task), not the app's. The two protocols alternate round
by round, so a machine whose speed drifts treats both alike; the best round of each is printed
with the median.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol  # noqa: E402
from uvicorn.server import ServerState  # noqa: E402

from app.core.http_protocol import CordonHttpProtocol  # noqa: E402

BODY = b'{"kind":"alert","client_msg_id":"' + b"a" * 36 + b'","envelope":"' + b"Q" * 1400 + b'"}'
REQUEST = (
    b"POST /api/v1/groups/6b3c1c2e-8a4f-4c55-9a33-0d7f0f5b8e21/messages HTTP/1.1\r\n"
    b"Host: 127.0.0.1:8000\r\nUser-Agent: python-httpx/0.28.1\r\nAccept: */*\r\n"
    b"Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n"
    b"Authorization: Bearer " + b"t" * 43 + b"\r\nContent-Type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = 0

    def write(self, data: Any) -> None:
        self.written += len(data)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _round(protocol_class: type[HttpToolsProtocol], requests: int) -> float:
    """CPU seconds per request for one kept-alive connection serving `requests` posts."""
    config = uvicorn.Config(_app, lifespan="off", log_level="warning", access_log=False)
    config.load()
    protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
    transport = _Transport()
    protocol.connection_made(transport)
    started = time.process_time()
    for _ in range(requests):
        protocol.data_received(REQUEST)
        await asyncio.sleep(0)  # the request task reads the body and answers
        await asyncio.sleep(0)
    elapsed = time.process_time() - started
    protocol.connection_lost(None)
    assert transport.written > 0
    return elapsed / requests


async def main(requests: int, rounds: int) -> None:
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results: dict[str, list[float]] = {"HttpToolsProtocol": [], "CordonHttpProtocol": []}
    for _ in range(rounds):
        results["HttpToolsProtocol"].append(await _round(HttpToolsProtocol, requests))
        results["CordonHttpProtocol"].append(await _round(CordonHttpProtocol, requests))
    print(f"{requests} kept-alive posts per round, {rounds} rounds, interleaved")
    print("| protocol | best µs/request | median µs/request |")
    print("|---|---:|---:|")
    for name, values in results.items():
        print(f"| {name} | {min(values) * 1e6:.1f} | {statistics.median(values) * 1e6:.1f} |")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(min(args.requests, 200_000), min(args.rounds, 20)))
