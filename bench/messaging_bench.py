"""Messaging benchmarks on loopback: our figure and its ceiling, measured in the same run.

    python bench/messaging_bench.py latency    [--db sqlite|postgres]   # fan-out p50/p99
    python bench/messaging_bench.py ingest     [--db sqlite|postgres]   # durable posts/s
    python bench/messaging_bench.py throughput [--db sqlite|postgres]   # fan-out frames/s
    python bench/messaging_bench.py idle       [--db sqlite|postgres]   # 10,000 idle sockets
    python bench/messaging_bench.py catchup    [--db sqlite|postgres]   # 10,000 missed items
    python bench/messaging_bench.py all        [--db sqlite|postgres]

Every server listens on 127.0.0.1 (a scratch database per run, dropped afterwards); every
phase is bounded in count and time. `--py-spy DIR` samples the server with py-spy during
the measured phase and prints its hottest functions (py-spy is not a project dependency:
`pip install py-spy`). See bench/README.md and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h  # noqa: E402

MS = 1e6  # ns per ms


# --------------------------------------------------------------------------- receivers


def _receiver_main(
    ws_url: str,
    tokens: list[str],
    mode: str,
    expected: int,
    seconds: float,
    out: Any,
    go: Any,
) -> None:
    """A client process holding many sockets: authenticate each, report ready, then record
    item frames (latency: id and arrival time; count: how many and when; idle: wait)."""
    h.raise_nofile()
    import uvloop

    uvloop.install()
    asyncio.run(_receiver(ws_url, tokens, mode, expected, seconds, out, go))


async def _receiver(
    ws_url: str,
    tokens: list[str],
    mode: str,
    expected: int,
    seconds: float,
    out: Any,
    go: Any,
) -> None:
    from websockets.asyncio.client import ClientConnection, connect

    gate = asyncio.Semaphore(32)
    deadline = time.monotonic() + seconds

    async def open_one(token: str) -> ClientConnection:
        async with gate:
            ws = await connect(
                ws_url, compression=None, max_queue=4096, open_timeout=120, ping_interval=None
            )
            await ws.send(json.dumps({"type": "auth", "token": token}))
            while json.loads(await ws.recv())["type"] != "caught_up":
                pass
            return ws

    started = time.monotonic()
    conns = await asyncio.gather(*(open_one(t) for t in tokens))
    out.put(("ready", len(conns), time.monotonic() - started))
    loop = asyncio.get_running_loop()
    if mode == "idle":  # hold the sockets until the parent says so
        await loop.run_in_executor(None, go.wait, seconds)

    async def consume(ws: ClientConnection) -> tuple[list[tuple[str, int]], int, int, int]:
        marks: list[tuple[str, int]] = []
        count = first = last = 0
        while count < expected:
            try:
                raw = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
            now = time.monotonic_ns()
            if not isinstance(raw, str) or not raw.startswith('{"type":"item"'):
                continue
            count += 1
            first = first or now
            last = now
            if mode in ("latency", "idle"):
                marks.append((json.loads(raw)["client_msg_id"], now))
        return marks, count, first, last

    if mode != "idle" or expected:
        results = await asyncio.gather(*(consume(ws) for ws in conns))
    else:
        results = []
    out.put(("done", results))
    await asyncio.gather(*(asyncio.wait_for(ws.close(), 5) for ws in conns), return_exceptions=True)


class Receivers:
    """`processes` client processes sharing `tokens`; `start()` returns once every socket is
    authenticated and caught up."""

    def __init__(
        self,
        ws_url: str,
        tokens: Sequence[str],
        *,
        mode: str,
        expected: int,
        seconds: float,
        processes: int = 2,
    ) -> None:
        ctx = mp.get_context("spawn")
        self._out: Any = ctx.Queue()
        self.go: Any = ctx.Event()
        self._procs = [
            ctx.Process(
                target=_receiver_main,
                args=(
                    ws_url,
                    list(tokens[i::processes]),
                    mode,
                    expected,
                    seconds,
                    self._out,
                    self.go,
                ),
                daemon=True,
            )
            for i in range(processes)
        ]
        self.seconds = seconds
        self.connect_seconds = 0.0

    def start(self) -> None:
        """Start the processes and wait until every socket is ready."""
        for p in self._procs:
            p.start()
        got = 0
        for _ in self._procs:
            kind, n, took = self._out.get(timeout=self.seconds + 60)
            assert kind == "ready"
            got += n
            self.connect_seconds = max(self.connect_seconds, took)
        self.connected = got

    def results(self) -> list[tuple[list[tuple[str, int]], int, int, int]]:
        """Per-socket (marks, count, first_ns, last_ns), once every process is done."""
        merged: list[tuple[list[tuple[str, int]], int, int, int]] = []
        for _ in self._procs:
            kind, data = self._out.get(timeout=self.seconds + 60)
            assert kind == "done"
            merged += data
        for p in self._procs:
            p.join(30)
            if p.is_alive():
                p.kill()
        return merged


# --------------------------------------------------------------------------- helpers


@contextmanager
def py_spy(pid: int, out_dir: str | None, name: str) -> Iterator[None]:
    """Sample `pid` with py-spy (raw collapsed stacks) while the block runs."""
    if not out_dir or shutil.which("py-spy") is None:
        yield
        return
    path = Path(out_dir) / f"{name}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            "py-spy",
            "record",
            "--gil",
            "--format",
            "raw",
            "-r",
            "200",
            "-o",
            str(path),
            "-p",
            str(pid),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        proc.send_signal(2)
        proc.wait(30)
        if path.exists():
            _print_profile(path)


def _print_profile(path: Path, top: int = 18) -> None:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = [
            f.split(" (")[0] + " " + f.split(" (")[-1].split(":")[0].rsplit("/", 1)[-1]
            for f in stack.split(";")
        ]
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    print(f"  py-spy {path} ({total} samples): top inclusive")
    for frame, n in inclusive.most_common(top):
        print(f"    {100 * n / total:5.1f}%  {frame}")
    print("  top self")
    for frame, n in own.most_common(10):
        print(f"    {100 * n / total:5.1f}%  {frame}")


def stats_line(label: str, values_ms: Sequence[float]) -> str:
    """`label: p50 … p99 … max … (n=…)` in milliseconds."""
    return (
        f"{label}: p50 {h.percentile(values_ms, 50):.2f} ms"
        f"  p99 {h.percentile(values_ms, 99):.2f} ms"
        f"  max {max(values_ms):.2f} ms  (n={len(values_ms)})"
    )


def item_frame(group_id: str, seq: int, msg_id: str, body: bytes) -> str:
    """A frame shaped and sized like the server's `item` frame, for the bare server."""
    envelope = json.loads(body)["envelope"]
    frame = {
        "type": "item",
        "group_id": group_id,
        "seq": seq,
        "kind": "alert",
        "sender_user_id": str(uuid.uuid4()),
        "sender_device_id": str(uuid.uuid4()),
        "recipients": None,
        "client_msg_id": msg_id,
        "parent_seq": None,
        "urgent": False,
        "created_at": datetime.now(UTC).isoformat(),
        "envelope": envelope,
    }
    return json.dumps(frame, separators=(",", ":"))


class PostPool:
    """Keep-alive raw HTTP connections to the server, handed out one request at a time."""

    def __init__(self, port: int, size: int) -> None:
        self.port = port
        self.size = size
        self._free: asyncio.Queue[h.RawHttp] = asyncio.Queue()
        self.statuses: Counter[int] = Counter()

    async def open(self) -> None:
        """Open every connection."""
        for _ in range(self.size):
            self._free.put_nowait(await h.RawHttp.open(self.port))

    async def post(self, raw: bytes) -> tuple[int, int]:
        """Send one post; returns (start_ns, end_ns)."""
        conn = await self._free.get()
        start = time.monotonic_ns()
        status, body = await conn.request(raw)
        end = time.monotonic_ns()
        self._free.put_nowait(conn)
        if status == 200 and body.startswith(b'{"results"'):  # a batch: count each message
            self.statuses.update(r["status"] for r in json.loads(body)["results"])
        else:
            self.statuses[status] += 1
        return start, end

    async def close(self) -> None:
        """Close every connection."""
        while not self._free.empty():
            await self._free.get_nowait().close()


def prepare_posts(seeded: h.Seeded, count: int) -> list[tuple[str, bytes]]:
    """(client_msg_id, raw request) for `count` real signed envelopes, round-robin senders."""
    posts = []
    for i in range(count):
        sender = seeded.senders[i % len(seeded.senders)]
        msg_id, body = h.sealed_post(sender, seeded.group_id, f"bench message {i:08d}")
        posts.append((msg_id, h.post_request(seeded.group_id, sender.token, body)))
    return posts


def batch_requests(
    seeded: h.Seeded, posts: list[tuple[str, bytes]], size: int, *, first: int
) -> list[bytes]:
    """The same posts as `POST .../messages/batch` requests of `size` messages, each batch
    from one sender (a device sending its backlog); `first` is the index of `posts[0]` in
    `prepare_posts`' round robin of senders."""
    by_sender: dict[int, list[bytes]] = {}
    for i, (_, raw) in enumerate(posts, start=first):
        by_sender.setdefault(i % len(seeded.senders), []).append(_body(raw))
    requests = []
    for index, bodies in by_sender.items():
        token = seeded.senders[index].token
        for start in range(0, len(bodies), size):
            body = b'{"messages":[' + b",".join(bodies[start : start + size]) + b"]}"
            requests.append(h.post_request(seeded.group_id, token, body, batch=True))
    return requests


def run(coro: Any) -> Any:
    """asyncio.run on uvloop (the server runs on uvloop too)."""
    import uvloop

    uvloop.install()
    return asyncio.run(coro)


# --------------------------------------------------------------------------- latency


async def _paced(
    send: Callable[[int], Any], count: int, rate: float
) -> list[tuple[int, int] | BaseException]:
    """Open loop: message i starts at t0 + i/rate whatever happened to earlier ones."""
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.05
    tasks = []
    for i in range(count):
        await asyncio.sleep(max(0.0, t0 + i / rate - loop.time()))
        tasks.append(asyncio.ensure_future(send(i)))
    result: list[tuple[int, int] | BaseException] = await asyncio.gather(
        *tasks, return_exceptions=True
    )
    return result


def requests_of(posts: list[tuple[str, bytes]]) -> list[bytes]:
    """The raw HTTP requests of prepared posts."""
    return [raw for _, raw in posts]


@contextmanager
def ours_with_readers(
    url: str,
    seeded: h.Seeded,
    warm: list[tuple[str, bytes]],
    *,
    mode: str,
    expected: int,
    seconds: float,
) -> Iterator[tuple[h.Server, Receivers]]:
    """Our server on `url`, warmed up with `warm` (which the sockets then read as backlog),
    with every reader's socket connected and caught up; stopped on exit."""
    server = h.Server(url)
    try:
        run(_ingest(server.port, requests_of(warm), 4))
        receivers = Receivers(
            server.ws_url,
            [d.token for d in seeded.readers],
            mode=mode,
            expected=expected,
            seconds=seconds,
        )
        receivers.start()
        print(f"  ours: {receivers.connected} sockets ready in {receivers.connect_seconds:.1f}s")
        yield server, receivers
    finally:
        server.stop()


def latency(args: argparse.Namespace) -> None:
    """Fan-out latency on `--devices` sockets at a steady `--rate`: ours vs bare broadcast()."""
    count = int(args.rate * args.seconds)
    print(
        f"== fan-out latency: {args.devices} devices, {args.rate}/s for {args.seconds}s "
        f"({count} messages), {args.db}; {h.loadavg()}"
    )
    with h.scratch_database(args.db) as url:
        seeded = h.seed(url, senders=1, readers=args.devices)
        posts = prepare_posts(seeded, count + 50)
        warm, posts = posts[:50], posts[50:]
        with ours_with_readers(
            url, seeded, warm, mode="latency", expected=count, seconds=args.seconds + 60
        ) as (server, receivers):

            async def send_all() -> list[tuple[int, int] | BaseException]:
                pool = PostPool(server.port, 8)
                await pool.open()

                async def one(i: int) -> tuple[int, int]:
                    return await pool.post(posts[i][1])

                try:
                    return await _paced(one, count, args.rate)
                finally:
                    await pool.close()
                    print(f"  ours: post statuses {dict(pool.statuses)}")

            cpu = h.cpu_seconds(server.pid)
            with py_spy(server.pid, args.py_spy, f"latency-{args.db}"):
                sent = run(send_all())
            cpu = h.cpu_seconds(server.pid) - cpu
            print(
                f"  ours: server CPU {cpu:.2f}s for {count} posts × {args.devices} pushes"
                f" = {cpu / count * 1000:.1f} ms per message ({cpu / args.seconds:.0%} of a core)"
            )
            ours = _latencies(posts, sent, receivers.results(), count)
        bare = _bare_latency(args, seeded, posts, count)
    _report_latency("ours (HTTP post → commit → push)", ours[0], args)
    print(stats_line("  ours: post ack (commit) → receipt", ours[1]))
    print(stats_line("  ours: post round trip", ours[2]))
    _report_latency("ceiling (bare websockets broadcast())", bare[0], args)
    print(
        f"  ratio p99 ours/ceiling: {h.percentile(ours[0], 99) / h.percentile(bare[0], 99):.1f}x;"
        f" {h.loadavg()}"
    )


def _latencies(
    posts: list[tuple[str, bytes]],
    sent: list[tuple[int, int] | BaseException],
    results: list[tuple[list[tuple[str, int]], int, int, int]],
    count: int,
) -> tuple[list[float], list[float], list[float]]:
    starts: dict[str, int] = {}
    acks: dict[str, int] = {}
    rtt: list[float] = []
    for (msg_id, _), outcome in zip(posts, sent, strict=True):
        if isinstance(outcome, BaseException):
            continue
        starts[msg_id], acks[msg_id] = outcome
        rtt.append((outcome[1] - outcome[0]) / MS)
    send_to_recv: list[float] = []
    ack_to_recv: list[float] = []
    missing = 0
    for marks, got, _, _ in results:
        missing += count - got
        for msg_id, at in marks:
            if msg_id in starts:
                send_to_recv.append((at - starts[msg_id]) / MS)
                ack_to_recv.append((at - acks[msg_id]) / MS)
    if missing:
        print(f"  WARNING: {missing} expected frames never arrived")
    return send_to_recv, ack_to_recv, rtt


def _report_latency(label: str, values: list[float], args: argparse.Namespace) -> None:
    print(stats_line(f"  {label}: send → receipt over {args.devices} sockets", values))


def _bare_latency(
    args: argparse.Namespace, seeded: h.Seeded, posts: list[tuple[str, bytes]], count: int
) -> tuple[list[float], list[float], list[float]]:
    frames = [item_frame(seeded.group_id, i + 1, m, _body(r)) for i, (m, r) in enumerate(posts)]
    bare = h.BareServer()
    try:
        receivers = Receivers(
            bare.ws_url,
            [d.token for d in seeded.readers],
            mode="latency",
            expected=count,
            seconds=args.seconds + 60,
        )
        receivers.start()
        time.sleep(1)

        async def send_all() -> list[tuple[int, int] | BaseException]:
            from websockets.asyncio.client import connect

            async with connect(bare.ws_url, compression=None) as ws:
                await ws.send(json.dumps({"type": "auth", "role": "sender"}))
                await ws.recv()
                await ws.recv()

                async def one(i: int) -> tuple[int, int]:
                    start = time.monotonic_ns()
                    await ws.send(frames[i])
                    return start, time.monotonic_ns()

                return await _paced(one, count, args.rate)

        sent = run(send_all())
        return _latencies(posts, sent, receivers.results(), count)
    finally:
        bare.stop()


def _body(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[1]


# --------------------------------------------------------------------------- ingest


async def _ingest(
    port: int, requests: list[bytes], concurrency: int
) -> tuple[float, list[float], Counter[int]]:
    pool = PostPool(port, concurrency)
    await pool.open()
    feed = iter(requests)
    rtts: list[float] = []

    async def worker() -> None:
        for raw in feed:
            start, end = await pool.post(raw)
            rtts.append((end - start) / MS)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return elapsed, rtts, pool.statuses


async def _count_items(url: str) -> int:
    from sqlalchemy import func, select

    from app.core.db import create_engine
    from app.messages.models import StreamItem

    engine = create_engine(url)
    async with engine.connect() as conn:
        n = await conn.scalar(select(func.count()).select_from(StreamItem))
    await engine.dispose()
    return int(n or 0)


def ingest(args: argparse.Namespace) -> None:
    """Durable posts/s through the API (answered only after commit) vs raw batched inserts;
    `--post-batch N` sends N messages per request through the batch route."""
    route = (
        f"batch route, {args.post_batch} per request" if args.post_batch > 1 else "one per request"
    )
    print(
        f"== durable ingest: {args.count} posts ({route}), {args.senders} sender devices, "
        f"{args.concurrency} connections, {args.db}; {h.loadavg()}"
    )
    with h.scratch_database(args.db) as url:
        seeded = h.seed(url, senders=args.senders, readers=0)
        t = time.perf_counter()
        posts = prepare_posts(seeded, args.count)
        print(
            f"  sealed {len(posts)} envelopes in {time.perf_counter() - t:.1f}s"
            " (client side, untimed)"
        )
        if args.post_batch > 1:
            measured = batch_requests(seeded, posts[200:], args.post_batch, first=200)
        else:
            measured = requests_of(posts[200:])
        server = h.Server(url)
        try:
            warm_up = requests_of(posts[:200])
            run(_ingest(server.port, warm_up, 8))  # warm-up: imports, pools, caches
            cpu = h.cpu_seconds(server.pid)
            with py_spy(server.pid, args.py_spy, f"ingest-{args.db}"):
                elapsed, rtts, statuses = run(_ingest(server.port, measured, args.concurrency))
            cpu = h.cpu_seconds(server.pid) - cpu
            print(
                f"  ours: server CPU {cpu:.2f}s = {cpu / (len(posts) - 200) * 1e6:.0f} µs per post"
                f" ({cpu / elapsed:.0%} of a core)"
            )
        finally:
            server.stop()
        stored = run(_count_items(url))
        n = len(posts) - 200
        print(
            f"  ours: {n / elapsed:,.0f} posts/s ({n} in {elapsed:.2f}s),"
            f" statuses {dict(statuses)},"
            f" rows stored {stored}"
        )
        print(stats_line("  ours: request round trip", rtts))
        rate, batch_ms = run(_raw_inserts(url, posts[200:], args.batch))
        print(
            f"  ceiling: raw {'aiosqlite' if args.db == 'sqlite' else 'asyncpg'}"
            " inserts of the same"
            f" {n} rows, {args.batch} per transaction: {rate:,.0f} rows/s"
        )
        print(stats_line(f"  ceiling: one {args.batch}-row transaction", batch_ms))
        print(f"  ratio ours/ceiling: {n / elapsed / rate:.1%}; {h.loadavg()}")


async def _raw_inserts(
    url: str, posts: list[tuple[str, bytes]], batch: int
) -> tuple[float, list[float]]:
    """The same rows (envelope bytes, ids, routing columns) through the bare driver, in
    transactions of `batch` rows that also bump the group's head, like a group commit."""
    import base64

    envelopes = [base64.b64decode(json.loads(_body(raw))["envelope"]) for _, raw in posts]
    dsn = h.raw_dsn(url)
    times: list[float] = []
    if url.startswith("sqlite"):
        import aiosqlite

        async with aiosqlite.connect(dsn) as db:
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
                await db.execute(f"PRAGMA {pragma}")
            cur = await db.execute(
                "SELECT group_id, sender_user_id, sender_device_id, created_at, id"
                " FROM stream_item LIMIT 1"
            )
            group, user, device, created, some_id = await cur.fetchone()  # type: ignore[misc]
            dashed = "-" in str(some_id)
            cur = await db.execute("SELECT head_seq FROM group_stream WHERE group_id = ?", (group,))
            (head,) = await cur.fetchone()  # type: ignore[misc]
            started = time.perf_counter()
            for lo in range(0, len(envelopes), batch):
                t = time.perf_counter()
                chunk = envelopes[lo : lo + batch]
                await db.execute(
                    "UPDATE group_stream SET head_seq = head_seq + ? WHERE group_id = ?",
                    (len(chunk), group),
                )
                rows = [
                    (
                        str(uuid.uuid4()) if dashed else uuid.uuid4().hex,
                        group,
                        head + lo + i + 1,
                        "alert",
                        user,
                        device,
                        None,
                        str(uuid.uuid4()),
                        None,
                        False,
                        env,
                        created,
                    )
                    for i, env in enumerate(chunk)
                ]
                await db.executemany(
                    "INSERT INTO stream_item (id, group_id, seq, kind, sender_user_id,"
                    " sender_device_id,"
                    " recipients, client_msg_id, parent_seq, urgent, envelope, created_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
                await db.commit()
                times.append((time.perf_counter() - t) * 1000)
            elapsed = time.perf_counter() - started
        return len(envelopes) / elapsed, times
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT group_id, sender_user_id, sender_device_id, created_at FROM stream_item LIMIT 1"
        )
        assert row is not None
        group, user, device, created = row
        head = await conn.fetchval("SELECT head_seq FROM group_stream WHERE group_id = $1", group)
        started = time.perf_counter()
        for lo in range(0, len(envelopes), batch):
            t = time.perf_counter()
            chunk = envelopes[lo : lo + batch]
            async with conn.transaction():
                await conn.execute(
                    "UPDATE group_stream SET head_seq = head_seq + $1 WHERE group_id = $2",
                    len(chunk),
                    group,
                )
                await conn.executemany(
                    "INSERT INTO stream_item (id, group_id, seq, kind, sender_user_id,"
                    " sender_device_id,"
                    " recipients, client_msg_id, parent_seq, urgent, envelope, created_at)"
                    " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
                    [
                        (
                            uuid.uuid4(),
                            group,
                            head + lo + i + 1,
                            "alert",
                            user,
                            device,
                            None,
                            str(uuid.uuid4()),
                            None,
                            False,
                            env,
                            created,
                        )
                        for i, env in enumerate(chunk)
                    ],
                )
            times.append((time.perf_counter() - t) * 1000)
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    return len(envelopes) / elapsed, times


# --------------------------------------------------------------------------- throughput


def throughput(args: argparse.Namespace) -> None:
    """Frames/s pushed by one process: a burst of posts fanned out to `--devices` sockets,
    vs the same frames through a bare server's broadcast() to the same number of sockets;
    `--post-batch N` posts the burst through the batch route, N messages per request."""
    count = args.burst
    route = (
        f"batch route, {args.post_batch} per request" if args.post_batch > 1 else "one per request"
    )
    print(
        f"== fan-out throughput: burst of {count} posts ({route}) to {args.devices} sockets,"
        f" {args.db}; {h.loadavg()}"
    )
    with h.scratch_database(args.db) as url:
        seeded = h.seed(url, senders=4, readers=args.devices)
        posts = prepare_posts(seeded, count + 50)
        warm, posts = posts[:50], posts[50:]
        with ours_with_readers(url, seeded, warm, mode="count", expected=count, seconds=120) as (
            server,
            receivers,
        ):
            if args.post_batch > 1:
                measured = batch_requests(seeded, posts, args.post_batch, first=50)
            else:
                measured = requests_of(posts)

            async def burst() -> int:
                pool = PostPool(server.port, 8)
                await pool.open()
                start = time.monotonic_ns()
                feed = iter(measured)

                async def worker() -> None:
                    for raw in feed:
                        await pool.post(raw)

                await asyncio.gather(*(worker() for _ in range(8)))
                await pool.close()
                return start

            cpu = h.cpu_seconds(server.pid)
            with py_spy(server.pid, args.py_spy, f"throughput-{args.db}"):
                start = run(burst())
                ours = _frames_per_second(start, receivers.results(), count)
            cpu = h.cpu_seconds(server.pid) - cpu
            print(
                f"  ours: server CPU {cpu:.2f}s = {cpu / (count * args.devices) * 1e6:.1f} µs"
                f" per frame pushed (posts included)"
            )
        frames = [item_frame(seeded.group_id, i + 1, m, _body(r)) for i, (m, r) in enumerate(posts)]
        bare = h.BareServer()
        try:
            receivers = Receivers(
                bare.ws_url,
                [d.token for d in seeded.readers],
                mode="count",
                expected=count,
                seconds=120,
            )
            receivers.start()

            async def send_all() -> int:
                from websockets.asyncio.client import connect

                async with connect(bare.ws_url, compression=None) as ws:
                    await ws.send(json.dumps({"type": "auth", "role": "sender"}))
                    await ws.recv()
                    await ws.recv()
                    start = time.monotonic_ns()
                    for frame in frames:
                        await ws.send(frame)
                    return start

            start = run(send_all())
            ceiling = _frames_per_second(start, receivers.results(), count)
        finally:
            bare.stop()
    print(
        f"  ours: {ours:,.0f} frames/s (post + commit + push); ceiling broadcast(): {ceiling:,.0f}"
        f" frames/s; ratio {ours / ceiling:.1%}; {h.loadavg()}"
    )


def _frames_per_second(
    start: int, results: list[tuple[list[tuple[str, int]], int, int, int]], count: int
) -> float:
    frames = sum(r[1] for r in results)
    end = max(r[3] for r in results)
    if frames < count * len(results):
        print(f"  WARNING: {count * len(results) - frames} frames missing")
    return frames / ((end - start) / 1e9)


# --------------------------------------------------------------------------- idle


def idle(args: argparse.Namespace) -> None:
    """Hold `--connections` authenticated idle sockets; server RSS per socket, vs bare."""
    n = args.connections
    print(f"== idle sockets: {n} in {args.processes} client processes, {args.db}; {h.loadavg()}")
    h.raise_nofile()
    with h.scratch_database(args.db) as url:
        t = time.perf_counter()
        seeded = h.seed(url, senders=1, readers=n)
        print(f"  seeded {n} users/devices/tokens in {time.perf_counter() - t:.1f}s")
        tokens = [d.token for d in seeded.readers]
        server = h.Server(url)
        try:
            ours = _hold(server.ws_url, server.pid, tokens, args, post=(server.port, seeded))
        finally:
            server.stop()
        bare = h.BareServer()
        try:
            ceiling = _hold(bare.ws_url, bare.pid, tokens, args, post=None)
        finally:
            bare.stop()
    print(
        f"  ours: {ours[0]} sockets, {ours[1] / 1024:.1f} KiB each"
        f" (server RSS {ours[2] / 2**20:.0f} MiB);"
        f" ceiling bare websockets: {ceiling[0]} sockets, {ceiling[1] / 1024:.1f} KiB each;"
        f" ratio {ours[1] / ceiling[1]:.1f}x; {h.loadavg()}"
    )


def _hold(
    ws_url: str,
    pid: int,
    tokens: list[str],
    args: argparse.Namespace,
    post: tuple[int, h.Seeded] | None,
) -> tuple[int, float, int]:
    warm = Receivers(ws_url, tokens[:10], mode="idle", expected=0, seconds=60, processes=1)
    warm.start()
    warm.go.set()
    warm.results()
    time.sleep(1)
    before = h.rss_bytes(pid)
    expected = 1 if post is not None else 0
    receivers = Receivers(
        ws_url, tokens, mode="idle", expected=expected, seconds=300, processes=args.processes
    )
    receivers.start()
    time.sleep(3)
    after = h.rss_bytes(pid)
    per = (after - before) / receivers.connected
    label = "ours" if post is not None else "ceiling"
    print(
        f"  {label}: {receivers.connected} sockets authenticated"
        f" in {receivers.connect_seconds:.1f}s;"
        f" RSS {before / 2**20:.0f} → {after / 2**20:.0f} MiB"
    )
    if post is not None:
        port, seeded = post
        _, raw = prepare_posts(seeded, 1)[0]

        async def one() -> tuple[int, int]:
            conn = await h.RawHttp.open(port)
            start = time.monotonic_ns()
            status, _ = await conn.request(raw)
            assert status == 201, status
            await conn.close()
            return start, time.monotonic_ns()

        receivers.go.set()
        start, _ = run(one())
        results = receivers.results()
        got = [r[3] for r in results if r[1]]
        lat = [(at - start) / MS for at in got]
        print(
            f"  ours: one post reached {len(got)}/{len(results)} idle sockets;"
            f" last after {max(lat):.0f} ms, p50 {h.percentile(lat, 50):.0f} ms"
        )
    else:
        receivers.go.set()
        receivers.results()
    return receivers.connected, per, after


# --------------------------------------------------------------------------- catch-up


def catchup(args: argparse.Namespace) -> None:
    """A device that missed `--count` items reconnects: time to `caught_up`, vs the raw
    SELECT of the same rows plus a bare server sending the same frames."""
    n = args.count
    print(f"== catch-up of {n} missed items by one device, {args.db}; {h.loadavg()}")
    with h.scratch_database(args.db) as url:
        seeded = h.seed(url, senders=8, readers=1)
        posts = prepare_posts(seeded, n)
        server = h.Server(url)
        try:
            elapsed, _, statuses = run(_ingest(server.port, requests_of(posts), 32))
            print(f"  posted {n} items through the API in {elapsed:.1f}s {dict(statuses)}")
            token = seeded.readers[0].token
            ws_times = [
                run(_ws_catch_up(server.ws_url, {"type": "auth", "token": token}, n))
                for _ in range(args.repeat)
            ]
            with py_spy(server.pid, args.py_spy, f"catchup-{args.db}"):
                ws_times += [
                    run(_ws_catch_up(server.ws_url, {"type": "auth", "token": token}, n))
                    for _ in range(args.repeat)
                ]
            http_times = [run(_http_catch_up(server.base, token, n)) for _ in range(args.repeat)]
        finally:
            server.stop()
        select_times = [run(_raw_select(url)) for _ in range(args.repeat)]
    frame = item_frame(seeded.group_id, 1, posts[0][0], _body(posts[0][1]))
    bare = h.BareServer()
    try:
        send_times = [
            run(_ws_catch_up(bare.ws_url, {"type": "auth", "role": "sender"}, n, backlog=frame))
            for _ in range(args.repeat)
        ]
    finally:
        bare.stop()
    print(stats_line("  ours: websocket connect → caught_up (ms)", [t * 1000 for t in ws_times]))
    print(stats_line("  ours: HTTP /sync loop, limit 1000 (ms)", [t * 1000 for t in http_times]))
    print(stats_line("  ceiling: raw SELECT of the rows (ms)", [t * 1000 for t in select_times]))
    print(
        stats_line(
            "  ceiling: bare websockets sends the frames (ms)", [t * 1000 for t in send_times]
        )
    )
    ceiling = h.percentile(select_times, 50) + h.percentile(send_times, 50)
    print(
        f"  ratio p50 ours/ceiling: {h.percentile(ws_times, 50) / ceiling:.1f}x"
        f" (ceiling {ceiling * 1000:.0f} ms); {h.loadavg()}"
    )


async def _ws_catch_up(
    ws_url: str, auth: dict[str, Any], n: int, backlog: str | None = None
) -> float:
    from websockets.asyncio.client import connect

    start = time.perf_counter()
    items = 0
    async with connect(ws_url, compression=None, max_size=2**22, max_queue=4096) as ws:
        await ws.send(json.dumps(auth))
        if backlog is not None:
            await ws.recv()
            await ws.recv()
            await ws.send(
                json.dumps({"type": "backlog", "count": n, "frame": backlog}, separators=(",", ":"))
            )
        while True:
            raw = await asyncio.wait_for(ws.recv(), 60)
            assert isinstance(raw, str)
            if raw.startswith('{"type":"item"'):
                items += 1
            elif raw.startswith('{"type": "caught_up"') or raw.startswith('{"type":"caught_up"'):
                break
        elapsed = time.perf_counter() - start
    assert items == n, (items, n)
    return elapsed


async def _http_catch_up(base: str, token: str, n: int) -> float:
    import httpx

    start = time.perf_counter()
    items = 0
    cursor: str | None = None
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
        while True:
            params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = (await c.get("/api/v1/sync", params=params)).json()
            items += len(page["items"])
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
    assert items == n, (items, n)
    return time.perf_counter() - start


async def _raw_select(url: str) -> float:
    dsn = h.raw_dsn(url)
    query = (
        "SELECT id, group_id, seq, kind, sender_user_id, sender_device_id, recipients,"
        " client_msg_id, parent_seq, urgent, envelope, created_at FROM stream_item"
        " ORDER BY group_id, seq"
    )
    start = time.perf_counter()
    if url.startswith("sqlite"):
        import aiosqlite

        async with aiosqlite.connect(dsn) as db:
            rows = list(await db.execute_fetchall(query))
    else:
        import asyncpg

        conn = await asyncpg.connect(dsn)
        try:
            rows = list(await conn.fetch(query))
        finally:
            await conn.close()
    assert rows
    return time.perf_counter() - start


# --------------------------------------------------------------------------- main


def main(argv: list[str]) -> None:
    """Parse the subcommand and run it."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "command", choices=["latency", "ingest", "throughput", "idle", "catchup", "all"]
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--devices", type=int, default=200, help="receiving sockets (latency, throughput)"
    )
    parser.add_argument("--rate", type=float, default=50.0, help="messages/s (latency)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration (latency), ≤ 60")
    parser.add_argument(
        "--count", type=int, default=10_000, help="posts (ingest) / missed items (catchup)"
    )
    parser.add_argument("--senders", type=int, default=32, help="sender devices (ingest)")
    parser.add_argument("--concurrency", type=int, default=64, help="HTTP connections (ingest)")
    parser.add_argument(
        "--batch", type=int, default=256, help="rows per raw transaction (ingest ceiling)"
    )
    parser.add_argument(
        "--post-batch",
        type=int,
        default=1,
        help="messages per request, >1: batch route (ingest, throughput)",
    )
    parser.add_argument("--burst", type=int, default=200, help="posts (throughput)")
    parser.add_argument("--connections", type=int, default=10_000, help="idle sockets")
    parser.add_argument("--processes", type=int, default=4, help="client processes (idle)")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions (catchup)")
    parser.add_argument("--py-spy", metavar="DIR", help="sample the server with py-spy into DIR")
    args = parser.parse_args(argv)
    args.seconds = min(args.seconds, 60.0)
    args.count = min(args.count, 100_000)
    args.connections = min(args.connections, 15_000)
    commands: dict[str, Callable[[argparse.Namespace], None]] = {
        "latency": latency,
        "ingest": ingest,
        "throughput": throughput,
        "idle": idle,
        "catchup": catchup,
    }
    for name, command in commands.items():
        if args.command in (name, "all"):
            command(args)


if __name__ == "__main__":
    main(sys.argv[1:])
