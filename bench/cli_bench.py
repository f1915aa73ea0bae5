"""How long the `cordon` command takes as a person types it (issue 12, "Speed").

A real server (uvicorn on 127.0.0.1, a scratch SQLite database seeded with the demo by
`cordon-server seed-demo`) and the real `cordon` executable in a new process for every call,
global options on the command line (`cordon --server URL --home DIR ...`), the keystore
passphrase from `$CORDON_PASSPHRASE` as the README documents. Measured, each with p50 / p99
(with fewer than 100 runs p99 is the slowest run) and the load averages:

* the floor: `python -c pass`, `curl` of `GET /api/v1/groups` in a new process, and the same
  request from httpx inside this process (a new connection each time);
* `cordon-server demo-totp`, `cordon login` (again, on an enrolled device), `cordon groups`
  (warm), `cordon receive` with nothing new and with 100 new items, `cordon send`,
  `cordon prenotifications send`.

Set-up (a coordinator who opened the log, a member who joined by invitation, the 100 items
sent before each `receive`) goes through the same CLI or the public `cordon_client` API, and is
not timed.

Python modules are byte-compiled first (`compileall`, as pip does when it installs a wheel):
this machine sets PYTHONDONTWRITEBYTECODE=1, so an editable install would otherwise compile
every module from source on every call, which no installed client does.

Run: python bench/cli_bench.py [--runs N] [--root DIR]
     (--root: the `cordon` / `cordon-server` code of another checkout, e.g. `git worktree add
     /tmp/before main`, run by this venv through PYTHONPATH, to compare interleaved)
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import httpx
from _harness import BENCH_SECRET, ROOT, Server, loadavg, percentile, scratch_database
from cordon_client import Cordon

BIN = Path(sys.executable).parent


def console_script(root: Path | None, pyproject: str, name: str) -> tuple[str, ...]:
    """The installed executable `name`, or for another checkout (--root, which has no scripts
    of its own) its entry point from `pyproject`, run by this venv's Python."""
    if root is None:
        return (str(BIN / name),)
    entry = tomllib.loads((root / pyproject).read_text())["project"]["scripts"][name]
    module, attr = entry.split(":")
    code = f"import sys; from {module} import {attr} as f; sys.argv[0] = {name!r}; sys.exit(f())"
    return (sys.executable, "-c", code)


PASSPHRASE = "bench keystore passphrase"
DEMO_PASSWORD = "cordon-demo-password"  # what `cordon-server seed-demo` prints
COORDINATOR, MEMBER = "ocu.coordinator", "be.ncp"
PRENOTIFICATION = {
    "sender_country": "BE",
    "destination_country": "GH",
    "transit_countries": ["NL"],
    "handling_code": "H2",
    "source_reliability": "A",
    "information_accuracy": 1,
    "product": {
        "trade_name": "Comirnaty",
        "vaccine_type": "tozinameran",
        "manufacturer": "BioNTech",
        "hs_code": "3002.41",
        "doses": 117000,
    },
    "lots": [{"lot_number": "FF1234", "quantity": 117000, "expiry_date": "2022-01-31"}],
    "cold_chain": {
        "temperature_min_c": -90,
        "temperature_max_c": -60,
        "iata_handling_code": "FRO",
        "dry_ice_kg": 45.5,
    },
    "transport": {
        "mode": "air",
        "flight_voyage": "SN285",
        "awb_master": "082-11111111",
        "etd": "2021-06-01T08:00:00Z",
        "eta": "2021-06-01T15:30:00Z",
    },
    "parties": {
        "exporter": "Pfizer Manufacturing Belgium",
        "consignee": "Ghana Health Service",
        "programme": "COVAX",
    },
    "contacts": {"emergency_phone": "+32 2 123 45 67"},
}


class Typist:
    """Runs commands as a person types them, with a HOME of its own (so nothing leaks into
    ~/.cordon) and no CORDON_* variable but the passphrase."""

    def __init__(self, scratch: Path, server_env: dict[str, str], root: Path | None) -> None:
        self.home = scratch / "home"
        self.home.mkdir()
        base = {k: v for k, v in os.environ.items() if not k.startswith("CORDON_")}
        if root is not None:
            base["PYTHONPATH"] = f"{root / 'clients' / 'python'}{os.pathsep}{root}"
        self.env = base | {"HOME": str(self.home), "COLUMNS": "200"}
        self.client_env = self.env | {"CORDON_PASSPHRASE": PASSPHRASE}
        self.server_env = self.env | server_env

    def time(self, *argv: str, stdin: str = "", server: bool = False) -> Sample:
        """Wall and CPU seconds of one run."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, _ = self.run(*argv, stdin=stdin, server=server)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return Sample(wall, cpu)

    def run(self, *argv: str, stdin: str = "", server: bool = False) -> tuple[float, str]:
        """Seconds from fork to exit, and stdout; a failure stops the benchmark."""
        started = time.perf_counter()
        done = subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            text=True,
            env=self.server_env if server else self.client_env,
            timeout=300,
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
        return elapsed, done.stdout


class Sample(NamedTuple):
    """One timed run: wall seconds, and CPU seconds (user + system) of the process that ran.
    CPU time hardly depends on what else the shared machine is doing; wall time does."""

    wall: float
    cpu: float


def report(name: str, samples: Sequence[Sample]) -> dict[str, float | int | str]:
    """Print and return one row: wall p50 / p99 / min and CPU p50, in milliseconds."""
    walls = [s.wall for s in samples]
    row: dict[str, float | int | str] = {
        "what": name,
        "runs": len(samples),
        "p50_ms": round(percentile(walls, 50) * 1000),
        "p99_ms": round(percentile(walls, 99) * 1000),
        "min_ms": round(min(walls) * 1000),
        "cpu_p50_ms": round(percentile([s.cpu for s in samples], 50) * 1000),
    }
    print(
        f"{name:<40} n={row['runs']:<3} p50 {row['p50_ms']:>5} ms  "
        f"p99 {row['p99_ms']:>5} ms  min {row['min_ms']:>5} ms  "
        f"cpu {row['cpu_p50_ms']:>5} ms   {loadavg()}",
        flush=True,
    )
    return row


def repeat(
    runs: int, once: Callable[[], Sample], before: Callable[[], None] | None = None
) -> list[Sample]:
    """`runs` timings of `once`, each after an untimed `before`."""
    timings = []
    for _ in range(runs):
        if before is not None:
            before()
        timings.append(once())
    return timings


async def _send_items(home: Path, group: uuid.UUID, count: int) -> None:
    async with Cordon(home, PASSPHRASE) as coordinator:
        await coordinator.send_many(group, [f"bench item {i}" for i in range(count)])


async def _group_id(home: Path) -> uuid.UUID:
    async with Cordon(home, PASSPHRASE) as member:
        (group,) = await member.groups()
        return uuid.UUID(str(group["id"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command (≤ 100)")
    parser.add_argument("--items", type=int, default=100, help="new items per receive")
    parser.add_argument("--root", type=Path, help="checkout whose cordon code to run")
    args = parser.parse_args()
    runs = max(3, min(args.runs, 100))
    code = (args.root or ROOT).resolve()
    for tree in (code / "clients" / "python", code / "app"):
        compileall.compile_dir(tree, quiet=1)
    print(
        f"code: {code} (byte-compiled); PYTHONDONTWRITEBYTECODE="
        f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')}",
        flush=True,
    )
    print(
        f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus, Python "
        f"{platform.python_version()}, {loadavg()}",
        flush=True,
    )
    rows: list[dict[str, float | int | str]] = []
    with scratch_database("sqlite") as url, tempfile.TemporaryDirectory(prefix="cli-bench-") as tmp:
        scratch = Path(tmp)
        server_env = {
            "CORDON_DATABASE_URL": url,
            "CORDON_SECRET_KEY": BENCH_SECRET,
            "CORDON_ENVIRONMENT": "development",
            "CORDON_SEED_DEMO": "true",
        }
        typist = Typist(scratch, server_env, args.root and args.root.resolve())
        cordon_server = console_script(args.root, "pyproject.toml", "cordon-server")
        cordon = console_script(args.root, "clients/python/pyproject.toml", "cordon")
        typist.run(*cordon_server, "seed-demo", server=True)
        server = Server(url)
        try:
            rows += bench(typist, server, scratch, runs, args.items, cordon, cordon_server)
        finally:
            server.stop()
    print(json.dumps(rows))


def bench(
    typist: Typist,
    server: Server,
    scratch: Path,
    runs: int,
    items: int,
    cordon: tuple[str, ...],
    cordon_server: tuple[str, ...],
) -> list[dict[str, float | int | str]]:
    coord, member = scratch / "coordinator", scratch / "member"
    c = (*cordon, "--server", server.base, "--home", str(coord))
    m = (*cordon, "--server", server.base, "--home", str(member))
    rows = []

    # -- the floor ----------------------------------------------------------------------------
    rows.append(
        report("python -c pass", repeat(runs, lambda: typist.time(sys.executable, "-c", "pass")))
    )

    # -- set-up: both log in, the coordinator opens the log, the member joins ----------------
    _, code = typist.run(*cordon_server, "demo-totp", server=True)
    totp = re.search(r"\b\d{6}\b", code)
    assert totp is not None, code
    typist.run(*c, "login", COORDINATOR, "--totp", totp.group(0), stdin=f"{DEMO_PASSWORD}\n")
    first_login = typist.time(*m, "login", MEMBER, stdin=f"{DEMO_PASSWORD}\n")
    rows.append(report("cordon login (first, new device)", [first_login]))
    group = asyncio.run(_group_id(member))
    typist.run(*c, "group", "open-log", str(group))
    _, shown = typist.run(*c, "group", "invite", str(group), "--for", MEMBER)
    invitation = re.search(r"cordon-invite:\S+", shown)
    assert invitation is not None, shown
    typist.run(*m, "group", "join", "--invitation", invitation.group(0))
    typist.run(*c, "group", "admit", str(group))
    typist.run(*m, "group", "join", str(group))
    asyncio.run(_send_items(coord, group, 1))
    typist.run(*m, "receive")
    _, whoami = typist.run(*m, "whoami")
    device = re.search(r"device\s+(\S+)", whoami)
    assert device is not None, whoami
    login = httpx.post(
        f"{server.base}/api/v1/auth/login",
        json={"username": MEMBER, "password": DEMO_PASSWORD, "device_id": device.group(1)},
    )
    login.raise_for_status()
    token = login.json()["access_token"]

    groups_url = f"{server.base}/api/v1/groups"
    headers = {"Authorization": f"Bearer {token}"}

    def one_request() -> Sample:
        started, cpu = time.perf_counter(), time.process_time()
        with httpx.Client() as http:
            http.get(groups_url, headers=headers).raise_for_status()
        return Sample(time.perf_counter() - started, time.process_time() - cpu)

    rows.append(report("GET /groups, httpx in this process", repeat(runs, one_request)))
    if shutil.which("curl"):
        curl = (
            "curl",
            "-sf",
            "-o",
            "/dev/null",
            "-H",
            f"Authorization: Bearer {token}",
            groups_url,
        )
        rows.append(report("GET /groups, curl process", repeat(runs, lambda: typist.time(*curl))))

    # -- the commands -------------------------------------------------------------------------
    rows.append(
        report(
            "cordon-server demo-totp",
            repeat(
                max(3, runs // 3), lambda: typist.time(*cordon_server, "demo-totp", server=True)
            ),
        )
    )
    rows.append(report("cordon groups (warm)", repeat(runs, lambda: typist.time(*m, "groups"))))
    rows.append(
        report("cordon receive (nothing new)", repeat(runs, lambda: typist.time(*m, "receive")))
    )
    rows.append(
        report(
            f"cordon receive ({items} new items)",
            repeat(
                max(3, runs // 2),
                lambda: typist.time(*m, "receive"),
                before=lambda: asyncio.run(_send_items(coord, group, items)),
            ),
        )
    )
    rows.append(
        report(
            "cordon send",
            repeat(runs, lambda: typist.time(*c, "send", str(group), "bench alert")),
        )
    )
    member_id = re.search(r"user\s+(\S+)", whoami)
    assert member_id is not None, whoami
    pn_file = scratch / "pn.json"
    _, usage = typist.run(*c, "prenotifications", "send", "--help")
    group_arg = ("-g", str(group)) if "--group" in usage else (str(group),)  # before issue 12 #6

    def new_prenotification() -> None:
        pn_file.write_text(json.dumps(PRENOTIFICATION | {"notification_id": str(uuid.uuid4())}))

    rows.append(
        report(
            "cordon prenotifications send",
            repeat(
                max(3, runs // 3),
                lambda: typist.time(
                    *c,
                    "prenotifications",
                    "send",
                    *group_arg,
                    "-f",
                    str(pn_file),
                    "--destination",
                    member_id.group(1),
                ),
                before=new_prenotification,
            ),
        )
    )
    rows.append(
        report(
            "cordon login (again, enrolled device)",
            repeat(
                max(3, runs // 3),
                lambda: typist.time(*m, "login", MEMBER, stdin=f"{DEMO_PASSWORD}\n"),
            ),
        )
    )
    return rows


if __name__ == "__main__":
    main()
