"""Server CPU of one post, in-process: the profiling aid behind docs/benchmarks.md's fourth round.

    python bench/post_cost.py [--db sqlite|postgres] [--posts 1000] [--root DIR] [--receipts N]

Seeds a scratch database (one sender, five readers, as the benchmarks do), runs the app's
lifespan, then sends `--posts` real signed posts one after the other straight into the ASGI
app — no sockets, no network, no other process — and prints CPU and wall time per post
(p50/p99) and posts per second. With nothing else in the way, what it measures is the
server's own work per post, which the fan-out latency runs cannot resolve to better than
about a millisecond. `--root` runs another checkout's `app/` (a `git worktree` of an older
commit) with this harness, so two versions can be measured interleaved, minutes apart, on a
machine whose speed drifts: compare them that way, not across sessions. `--receipts N` then
has N readers acknowledge each of the last 20 posts at once, as the SDK does on its socket.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WARM_UP = 50


def _request(raw: bytes) -> tuple[dict[str, Any], bytes]:
    """The ASGI scope and body of a raw HTTP request prepared by the harness."""
    head, body = raw.split(b"\r\n\r\n", 1)
    first, *lines = head.split(b"\r\n")
    method, path, _ = first.split(b" ")
    headers = [(k.lower(), v) for k, v in (line.split(b": ", 1) for line in lines)]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method.decode(),
        "path": path.decode(),
        "raw_path": path,
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "scheme": "http",
    }
    return scope, body


async def _post(app: Any, raw: bytes) -> int:
    scope, body = _request(raw)
    delivered = False
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


RECEIPTED_ITEMS = 20


async def _acknowledge(app: Any, seeded: Any) -> None:
    """Every reader acknowledges each of the last items at once, as `cordon listen` does
    over its socket when an alert arrives (`delivered`); CPU per receipt."""
    import _harness as h
    from cordon_client import wire
    from sqlalchemy import select

    from app.messages import service
    from app.messages.models import StreamItem

    source = app.state.realtime.source
    viewers = [await source.authenticate(reader.token) for reader in seeded.readers]
    group_id = uuid.UUID(seeded.group_id)
    async with app.state.sessionmaker() as session:
        last = (await service.heads(session, group_ids=[group_id]))[group_id]
    walls: list[float] = []
    async with app.state.sessionmaker() as session:
        rows = await session.execute(
            select(StreamItem.seq, StreamItem.sender_device_id, StreamItem.client_msg_id).where(
                StreamItem.group_id == group_id, StreamItem.seq > last - RECEIPTED_ITEMS
            )
        )
        refs = {seq: wire.MessageRef(device, uuid.UUID(mid)) for seq, device, mid in rows}

    def frame(reader: Any, seq: int) -> dict[str, Any]:
        """A delivered receipt as `cordon listen` sends it, signed by the reader's device."""
        ts = int(time.time() * 1000)
        signed = wire.receipt_signing_input(
            group_id=group_id,
            item=refs[seq],
            device_id=uuid.UUID(reader.device_id),
            status="delivered",
            ts=ts,
        )
        sig = wire.b64e(reader.signing_key.sign(signed))
        body = {"group_id": seeded.group_id, "seq": seq, "status": "delivered"}
        return {"type": "receipt", **body, "ts": ts, "sig": sig}

    signed = {
        seq: [frame(reader, seq) for reader in seeded.readers]
        for seq in range(last - RECEIPTED_ITEMS + 1, last + 1)
    }  # signed before the clock starts: signing is the clients' cost
    cpu = time.process_time()
    started = time.perf_counter()
    for frames in signed.values():
        t = time.perf_counter()
        problems = await asyncio.gather(
            *(source.receipt(v, f) for v, f in zip(viewers, frames, strict=True))
        )
        walls.append((time.perf_counter() - t) * 1000)
        if any(problems):
            raise SystemExit(f"receipts refused: {set(problems)}")
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    n = RECEIPTED_ITEMS * len(viewers)
    print(
        f"  {n} receipts ({len(viewers)} devices at once × {RECEIPTED_ITEMS} items): CPU "
        f"{cpu / n * 1000:.3f} ms per receipt; all of an item's in p50 "
        f"{h.percentile(walls, 50):.1f} ms, p99 {h.percentile(walls, 99):.1f} ms; "
        f"{n / elapsed:,.0f} receipts/s"
    )


async def _measure(app: Any, requests: list[bytes], seeded: Any, receipts: bool) -> None:
    import _harness as h

    async with app.router.lifespan_context(app):
        for raw in requests[:WARM_UP]:
            await _post(app, raw)
        measured = requests[WARM_UP:]
        walls: list[float] = []
        cpu = time.process_time()
        started = time.perf_counter()
        for raw in measured:
            t = time.perf_counter()
            status = await _post(app, raw)
            walls.append((time.perf_counter() - t) * 1000)
            if status != 201:
                raise SystemExit(f"post answered {status}")
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        n = len(measured)
        print(
            f"  {n} posts: CPU {cpu / n * 1000:.3f} ms per post; wall p50 "
            f"{h.percentile(walls, 50):.3f} ms, p99 {h.percentile(walls, 99):.3f} ms; "
            f"{n / elapsed:,.0f} posts/s one at a time"
        )
        if receipts:
            await _acknowledge(app, seeded)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--root", type=Path, default=HERE.parent, help="checkout whose app/ runs")
    parser.add_argument(
        "--receipts",
        type=int,
        default=0,
        metavar="DEVICES",
        help=f"then DEVICES readers acknowledge each of the last {RECEIPTED_ITEMS} posts at once",
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import _harness as h
    import messaging_bench as mb

    sys.path.insert(0, str(args.root.resolve()))  # ahead of the harness's own checkout

    print(f"== post cost, in-process: {args.root.resolve()}, {args.db}; {h.loadavg()}")
    with h.scratch_database(args.db) as url:
        seeded = h.seed(url, senders=1, readers=max(5, args.receipts))
        requests = [raw for _, raw in mb.prepare_posts(seeded, args.posts + WARM_UP)]
        os.environ.update(
            {
                "CORDON_ENVIRONMENT": "test",
                "CORDON_DATABASE_URL": url,
                "CORDON_SECRET_KEY": h.BENCH_SECRET,
                "CORDON_SEED_DEMO": "false",
                "CORDON_LOG_LEVEL": "WARNING",
            }
        )
        from app.main import create_app

        imported_from = Path(sys.modules["app"].__file__ or "")
        if not imported_from.is_relative_to(args.root.resolve()):
            raise SystemExit(f"app was imported from {imported_from}, not from --root")
        mb.run(_measure(create_app(), requests, seeded, args.receipts > 0))


if __name__ == "__main__":
    main(sys.argv[1:])
