"""A synthetic STOP II: administrations in the six WCO regions, the reporting ones posting
seizure cases through the real server (batch API, real protocol), pre-notifications between
departure and destination members, and the figures the report must reproduce.

`plan()` is pure and deterministic: it lays out who reports which case with which reports and
pieces so that the totals are exactly the targets (by default the STOP II key figures: 160
administrations, 90 reporting, 2,769 cases in 4,034 seizure reports, 273.6 M medicines,
214.3 M medical devices including PPE, 13.5 M vaccine doses). `populate()` creates the group
on a running server and posts the plan; `expected()` is the key-figure table the report over
the group must show. tests/e2e/test_report_cli.py runs it small; `python
bench/synthetic_operation.py` runs it at full scale as the report benchmark (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

CATEGORY_CYCLE = ("medicines", "ppe", "medicines", "medical_devices", "vaccines", "test_kits")
HS = {
    "medicines": "3004",
    "ppe": "6307.90",
    "medical_devices": "9018",
    "vaccines": "3002.41",
    "test_kits": "3822",
}
FIGURE = {
    "medicines": "medicines",
    "ppe": "medical_devices",
    "medical_devices": "medical_devices",
    "test_kits": "medical_devices",
    "vaccines": "vaccine_doses",
}
PLACES = ("airport", "postal_centre", "seaport", "land_border", "express_hub", "free_trade_zone")
MODES = {
    "airport": "air",
    "postal_centre": "postal",
    "seaport": "sea",
    "land_border": "road",
    "express_hub": "express_courier",
    "free_trade_zone": "sea",
}
METHODS = ("risk_profiling", "intelligence", "routine_control", "xray_nii", "canine")
PHASES = (
    ("1", date(2021, 4, 30), date(2021, 6, 30)),
    ("2", date(2021, 9, 1), date(2021, 11, 30)),
    ("3", date(2022, 3, 1), date(2022, 5, 31)),
)


@dataclass(frozen=True)
class Target:
    """The figures the synthetic operation must add up to."""

    administrations: int = 160
    reporting: int = 90
    cases: int = 2769
    reports: int = 4034
    medicines: int = 273_600_000
    medical_devices: int = 214_300_000
    vaccine_doses: int = 13_500_000
    prenotifications: int = 60


STOP_II = Target()


@dataclass
class Plan:
    """Administrations (country codes, reporting ones first) and each case's data."""

    target: Target
    countries: list[str]
    cases: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by reporter
    prenotifications: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def reporting(self) -> list[str]:
        return self.countries[: self.target.reporting]


def _countries(n: int) -> list[str]:
    """`n` countries spread over the six WCO regions, taken in turn from each region."""
    sys.path.insert(0, str(ROOT / "clients" / "python"))
    from cordon_client.analytics.figures import regions

    by_region: dict[str, list[str]] = {}
    for country, region in sorted(regions().items()):
        by_region.setdefault(region, []).append(country)
    order = ("EUR", "A/P", "AMS", "MENA", "WCA", "ESA")
    out: list[str] = []
    depth = 0
    while len(out) < n:
        for region in order:
            if depth < len(by_region[region]) and len(out) < n:
                out.append(by_region[region][depth])
        depth += 1
    return out


def _days() -> list[date]:
    return [
        start + timedelta(days=d) for _, start, end in PHASES for d in range((end - start).days + 1)
    ]


def plan(target: Target = STOP_II) -> Plan:
    """Who reports what, so that every total is exactly the target's (deterministic)."""
    if not target.cases <= target.reports <= 2 * target.cases:
        raise ValueError("each case holds one or two seizure reports here")
    countries = _countries(target.administrations)
    out = Plan(target, countries)
    reporting = out.reporting
    days = _days()
    # one category per report, cycling; quantities split evenly, remainder on the first
    categories = [CATEGORY_CYCLE[j % len(CATEGORY_CYCLE)] for j in range(target.reports)]
    per_figure: dict[str, int] = {}
    for category in categories:
        per_figure[FIGURE[category]] = per_figure.get(FIGURE[category], 0) + 1
    totals = {
        "medicines": target.medicines,
        "medical_devices": target.medical_devices,
        "vaccine_doses": target.vaccine_doses,
    }
    first_done: set[str] = set()
    extra = target.reports - target.cases
    j = 0
    for i in range(target.cases):
        reporter = reporting[i % len(reporting)]
        day = days[i * len(days) // target.cases]
        reports = []
        for k in range(2 if i < extra else 1):
            category = categories[j]
            figure = FIGURE[category]
            quantity = totals[figure] // per_figure[figure]
            if figure not in first_done:
                quantity += totals[figure] % per_figure[figure]
                first_done.add(figure)
            place = PLACES[(i + k) % len(PLACES)]
            departure = countries[(i * 7 + k + 1) % len(countries)]
            reports.append(
                {
                    "seizure_date": day.isoformat(),
                    "place_type": place,
                    "direction": "import",
                    "departure_country": departure,
                    "destination_country": reporter,
                    "transport": {"mode": MODES[place]},
                    "detection": {"method": METHODS[(i + k) % len(METHODS)]},
                    "items": [
                        {
                            "category": category,
                            "hs_code": HS[category],
                            "quantity": quantity,
                            "unit": "DOS" if category == "vaccines" else "PCE",
                            "description": f"synthetic {category} lot {i}-{k}",
                        }
                    ],
                }
            )
            j += 1
        out.cases.setdefault(reporter, []).append(
            {
                "reporting_country": reporter,
                "handling_code": "H1",
                "source_reliability": "B",
                "information_accuracy": 2,
                "reports": reports,
                "remarks": "synthetic narrative, never in a report",
            }
        )
    for n in range(target.prenotifications):
        sender = reporting[n % len(reporting)]
        destination = reporting[(n + 1) % len(reporting)]
        out.prenotifications.append((sender, destination, _prenotification(sender, destination, n)))
    return out


def _prenotification(sender: str, destination: str, n: int) -> dict[str, Any]:
    eta = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    return {
        "sender_country": sender,
        "destination_country": destination,
        "handling_code": "H2",
        "source_reliability": "A",
        "information_accuracy": 1,
        "product": {
            "trade_name": "Synthetic vaccine",
            "vaccine_type": "mRNA",
            "manufacturer": "Synthetic Pharma",
            "hs_code": "3002.41",
            "doses": 1000 * (n + 1),
        },
        "lots": [{"lot_number": f"L{n}", "quantity": 1000 * (n + 1), "expiry_date": "2027-01-31"}],
        "cold_chain": {
            "temperature_min_c": -90,
            "temperature_max_c": -60,
            "iata_handling_code": "FRO",
        },
        "transport": {
            "mode": "air",
            "flight_voyage": f"SN{100 + n}",
            "etd": (eta - timedelta(hours=8)).isoformat().replace("+00:00", "Z"),
            "eta": eta.isoformat().replace("+00:00", "Z"),
        },
        "parties": {"exporter": "Synthetic Pharma", "consignee": "Central medical store"},
        "contacts": {"emergency_phone": "+32 2 000 00 00"},
    }


def expected(target: Target) -> dict[str, Any]:
    """The key figures and pre-notification counts the report over the whole group shows."""
    acknowledged = (target.prenotifications + 1) // 2
    return {
        "key_figures": {
            "members_reporting": target.reporting,
            "cases": target.cases,
            "seizure_reports": target.reports,
            "pieces": {
                "medicines": target.medicines,
                "medical_devices": target.medical_devices,
                "vaccine_doses": target.vaccine_doses,
                "other": 0,
                "total": target.medicines + target.medical_devices + target.vaccine_doses,
            },
        },
        "prenotifications": {"sent": target.prenotifications, "acknowledged": acknowledged},
    }


# -- posting through a real server ---------------------------------------------------------

MakeUser = Callable[[str], Awaitable[tuple[str, str | None, uuid.UUID]]]
"""Creates an enrolled user, ``admin``, ``coordinator`` (both with TOTP) or ``member``:
(username, TOTP seed, user id)."""
PASSPHRASE = "synthetic operation passphrase"


@dataclass
class Populated:
    """The group made, where the coordinator's device lives, and how long posting took."""

    group_id: uuid.UUID
    coordinator_home: Path
    posting_seconds: float


async def populate(
    base: str,
    make_user: MakeUser,
    password: str,
    tmp: Path,
    the_plan: Plan,
    passphrase: str = PASSPHRASE,
) -> Populated:
    """Create the group, admit every administration (one officer and device each), post every
    reporter's cases with the batch API, send the pre-notifications and acknowledge every
    other one. The coordinator's device (under `tmp/coord`) has not synced: a report from it
    is a cold start."""
    import pyotp
    from cordon_client import prenotifications as pn_ops
    from cordon_client._client import Cordon
    from cordon_client.records import store
    from cordon_client.records.view import CASE, domain_registry

    admin_name, admin_seed, _ = await make_user("admin")
    coord_name, coord_seed, coord_id = await make_user("coordinator")
    assert admin_seed and coord_seed
    fast = {"server": base, "scrypt_n": 2**14}
    async with Cordon(tmp / "admin", passphrase, **fast) as admin:  # type: ignore[arg-type]
        await admin.login(admin_name, password, pyotp.TOTP(admin_seed).now())
        coord = Cordon(tmp / "coord", passphrase, **fast)  # type: ignore[arg-type]
        await coord.login(coord_name, password, pyotp.TOTP(coord_seed).now())
        gid = await admin.create_group(
            f"STOP II synthetic {uuid.uuid4().hex[:6]}", coordinator_id=coord_id
        )
    await coord.set_group_status(gid, "active")
    code = await coord.open_group_log(gid)
    officers: dict[str, tuple[Cordon, uuid.UUID]] = {}
    for country in the_plan.countries:
        name, _, user_id = await make_user("member")
        officer = Cordon(tmp / country, passphrase, **fast)  # type: ignore[arg-type]
        await officer.login(name, password)
        text = await coord.invite(gid, for_user=name)
        await officer.request_join(text)
        await coord.add_member(gid, name)
        await officer.join_group(gid, expected_fingerprint=code)
        officers[country] = (officer, user_id)
    await coord.aclose()
    clock = time.perf_counter()
    sent = []
    for sender, destination, data in the_plan.prenotifications:
        officer, _ = officers[sender]
        record = await pn_ops.send_prenotification(
            officer, gid, data, destination=[officers[destination][1]]
        )
        sent.append((destination, uuid.UUID(str(record["id"]))))
    for index, (destination, pn_id) in enumerate(sent):
        if index % 2 == 0:
            officer, _ = officers[destination]
            await store.sync_all(officer)
            await pn_ops.transition(officer, gid, pn_id, "acknowledged")
    registry = domain_registry()
    for country, cases in the_plan.cases.items():
        officer, _ = officers[country]
        contents = [
            registry.make_content(CASE, "seizure-case", c, form="simplified") for c in cases
        ]
        await officer.send_many(gid, contents, kind="alert")
    posting = time.perf_counter() - clock
    for officer, _ in officers.values():
        await officer.aclose()
    return Populated(gid, tmp / "coord", posting)


# -- the benchmark --------------------------------------------------------------------------


def _cordon_report(home: Path, base: str, gid: uuid.UUID, out: Path) -> dict[str, Any]:
    """The real `cordon --server --home report` in its own process: its JSON answer (with the
    seconds of each step), wall time and peak RSS (the child's own, from wait4)."""
    import subprocess

    args = [
        str(Path(sys.executable).with_name("cordon")),
        "--home",
        str(home),
        "--server",
        base,
        "report",
        str(gid),
        "--analysis-report",
        "--phases",
        str(out.parent / "phases.json"),
        "-o",
        str(out),
        "--json",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORDON_")}
    env |= {"CORDON_PASSPHRASE": PASSPHRASE, "HOME": str(home.parent)}
    env.pop("XDG_RUNTIME_DIR", None)
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        clock = time.perf_counter()
        child = subprocess.Popen(args, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak RSS
        wall = time.perf_counter() - clock
        child.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        if child.returncode != 0:
            raise RuntimeError(stderr.read().decode())
        answer: dict[str, Any] = json.loads(stdout.read())
    answer["wall_s"] = round(wall, 2)
    answer["peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)
    return answer


def main() -> None:
    """Full scale: populate a scratch server, then one cold and one warm report."""
    import argparse

    sys.path.insert(0, str(ROOT))
    from bench._harness import loadavg, scratch_database

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of STOP II")
    args = parser.parse_args()
    target = STOP_II if args.scale == 1.0 else _scaled(args.scale)
    the_plan = plan(target)
    print(f"# {loadavg()}; {os.cpu_count()} cores; target {target}")
    with scratch_database("sqlite") as url, tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(_run(url, Path(tmp), the_plan))
    print(f"# {loadavg()}")
    print(json.dumps(result, indent=1, default=str))


def _scaled(scale: float) -> Target:
    base = STOP_II
    cases = max(6, int(base.cases * scale))
    return Target(
        administrations=max(6, int(base.administrations * scale)),
        reporting=max(4, int(base.reporting * scale)),
        cases=cases,
        reports=min(2 * cases, max(cases, int(base.reports * scale))),
        prenotifications=max(2, int(base.prenotifications * scale)),
    )


async def _run(url: str, tmp: Path, the_plan: Plan) -> dict[str, Any]:
    from bench._harness import Server
    from tests.conftest import TEST_SECRET  # the factories seal TOTP seeds with it

    server = Server(url, CORDON_SECRET_KEY=TEST_SECRET, CORDON_BLOB_DIR=str(tmp / "blobs"))
    base = server.base
    try:
        make_user, password = await _user_maker(url)
        clock = time.perf_counter()
        done = await populate(base, make_user, password, tmp, the_plan)
        setup = time.perf_counter() - clock
        out = tmp / "out"
        out.mkdir()
        (tmp / "phases.json").write_text(
            json.dumps([{"name": n, "from": str(a), "to": str(b)} for n, a, b in PHASES])
        )
        cold = _cordon_report(done.coordinator_home, base, done.group_id, out)
        warm = _cordon_report(done.coordinator_home, base, done.group_id, out)
        table = json.loads((out / "analysis-report-start_now.json").read_text())
        got = {
            "key_figures": table["key_figures"],
            "prenotifications": {k: table["prenotifications"][k] for k in ("sent", "acknowledged")},
        }
        return {
            "setup_s": round(setup, 1),
            "posting_s": round(done.posting_seconds, 1),
            "cold": cold,
            "warm": warm,
            "figures_match": got == expected(the_plan.target),
            "prenotifications": table["prenotifications"],
            "not_counted": table["not_counted"],
            "sizes_bytes": {p.suffix: p.stat().st_size for p in out.iterdir()},
        }
    finally:
        server.stop()


async def _user_maker(url: str) -> tuple[MakeUser, str]:
    """Enrolled users written into the scratch database (as the tests' factories do)."""
    from app.core.db import create_engine, create_sessionmaker
    from tests import factories as f

    maker = create_sessionmaker(create_engine(url))

    async def make(kind: str) -> tuple[str, str | None, uuid.UUID]:
        async with maker() as session:
            user, seed = await f.user(session, admin=kind == "admin", totp=kind != "member")
            return user.username, seed, user.id

    return make, f.PASSWORD


if __name__ == "__main__":
    main()
