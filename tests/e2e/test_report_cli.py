"""`cordon report` as typed, over a small synthetic operation posted through a real server.

The generator (bench/synthetic_operation.py) admits the administrations with the real
protocol, posts the reporting members' cases with the batch API and sends pre-notifications,
one of them acknowledged. A member also posts a case that does not fit its template. The
coordinator's `cordon --server … --home … report` must reproduce the planned figures exactly,
list the refused case under "not counted", keep names and narratives out unless asked, and
publish into the library in the preset's category. Playing the malicious server, the test also
flips a byte of one stored case envelope: the report must leave that case out of every figure,
name it with its reason under "not counted", and show none of its content.
"""

import copy
import csv
import io
import json
import uuid
from pathlib import Path

import pytest
from cordon_client._client import Cordon
from cordon_client.records.store import archived
from cordon_client.records.view import CASE, domain_registry
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.messages.models import StreamItem
from bench.synthetic_operation import PHASES, Target, expected, plan, populate
from tests import factories as f
from tests.e2e.joining import PASSPHRASE
from tests.e2e.server import Server
from tests.e2e.typed import cordon, ok

pytestmark = pytest.mark.e2e
SMALL = Target(
    administrations=5,
    reporting=3,
    cases=9,
    reports=13,
    medicines=1000,
    medical_devices=500,
    vaccine_doses=300,
    prenotifications=2,
)
BROKEN_CASE = {
    "type": "seizure_case",
    "template": {"id": "seizure-case", "version": 1, "form": "simplified"},
    "data": {"reporting_country": "BE", "handling_code": "H1"},
}
MARKER = "TAMPERED-LOT-7Q"  # the tampered case's description and its route's departure
MARKER_COUNTRY = "ZW"


async def tamper_envelope(session: AsyncSession, gid: uuid.UUID, seq: int) -> None:
    """As an attacker with the server's database: flip one byte of a stored envelope, so its
    signature no longer holds (as clients/web/tests/browser/sdk_member.py's `tamper`)."""
    where = (StreamItem.group_id == gid, StreamItem.seq == seq)
    raw = bytearray((await session.execute(select(StreamItem.envelope).where(*where))).scalar_one())
    raw[-80] ^= 0x01
    await session.execute(update(StreamItem).where(*where).values(envelope=bytes(raw)))
    await session.commit()


async def test_report_over_a_synthetic_operation(
    server: Server, session: AsyncSession, tmp_path: Path
) -> None:
    async def make_user(kind: str) -> tuple[str, str | None, uuid.UUID]:
        user, seed = await f.user(session, admin=kind == "admin", totp=kind != "member")
        return user.username, seed, user.id

    the_plan = plan(SMALL)
    done = await populate(server.base, make_user, f.PASSWORD, tmp_path, the_plan, PASSPHRASE)
    gid = done.group_id
    reporter = the_plan.reporting[0]
    async with Cordon(tmp_path / reporter, PASSPHRASE, server=server.base) as officer:
        await officer.send(gid, json.dumps(BROKEN_CASE).encode(), kind="alert")
        bad = copy.deepcopy(the_plan.cases[reporter][0])
        for r in bad["reports"]:
            r["departure_country"] = MARKER_COUNTRY
            for item in r["items"]:
                item |= {"description": MARKER, "quantity": 777777}
        made = domain_registry().make_content(CASE, "seizure-case", bad, form="simplified")
        tampered = await officer.send(gid, made, kind="alert")
    await tamper_envelope(session, gid, tampered)
    phases = tmp_path / "phases.json"
    phases.write_text(
        json.dumps([{"name": n, "from": a.isoformat(), "to": b.isoformat()} for n, a, b in PHASES])
    )
    home, out = done.coordinator_home, tmp_path / "out"

    def report(*args: str) -> dict:
        typed = ["--server", server.base, "report", str(gid), "-o", str(out), "--json", *args]
        return dict(json.loads(ok(cordon(home, *typed))))

    # the analysis report over the whole operation: the planned figures, exactly
    done_json = report("--analysis-report", "--phases", str(phases))
    table = json.loads((out / "analysis-report-start_now.json").read_text("utf-8"))
    want = expected(SMALL)
    assert table["key_figures"] == want["key_figures"] == done_json["key_figures"]
    assert table["key_figures"] == {  # the same, written out: the fixed table of this scale
        "members_reporting": 3,
        "cases": 9,
        "seizure_reports": 13,
        "pieces": {
            "medicines": 1000,
            "medical_devices": 500,
            "vaccine_doses": 300,
            "other": 0,
            "total": 1800,
        },
    }
    assert {k: table["prenotifications"][k] for k in ("sent", "acknowledged")} == want[
        "prenotifications"
    ]
    # the tampered case (a ciphertext under a broken signature: kind `alert`) is left out,
    # named with its reason; the template misfit is the one `case` row
    assert [(r["what"], r["count"]) for r in table["not_counted"]] == [("alert", 1), ("case", 1)]
    assert "reports: is required" in table["not_counted"][1]["reason"]
    assert table["not_counted"][0]["reason"] == "envelope: signature does not verify"
    assert MARKER_COUNTRY not in {r["country"] for r in table["by_country"]}
    assert all(
        MARKER_COUNTRY not in (r["departure"], r["destination"]) for r in table["top_routes"]
    )
    assert sum(r["cases"] for r in table["by_phase"]) == SMALL.cases
    assert [(r["region"], r["cases"]) for r in table["by_region"]] == [
        ("AMS", 3),
        ("EUR", 3),
        ("A/P", 3),
        ("MENA", 0),
        ("WCA", 0),
        ("ESA", 0),
    ]  # AD, AF and AG report three cases each
    rows = list(csv.reader(io.StringIO((out / "analysis-report-start_now.csv").read_text())))
    assert ["key_figures", "", "seizure_reports", "13"] in rows
    page = (out / "analysis-report-start_now.html").read_text("utf-8")
    assert page.count("<svg") >= 4 and "<script" not in page and "<link" not in page
    assert "synthetic" not in page  # no descriptions, no remarks: non-nominal by default
    assert (out / "analysis-report-start_now.pdf").read_bytes().startswith(b"%PDF")
    for name in ("html", "csv", "json"):
        written = (out / f"analysis-report-start_now.{name}").read_text("utf-8")
        assert MARKER not in written and "777777" not in written and "777,777" not in written
        assert "signature does not verify" in written  # "not counted" names it and why
    asked = cordon(home, "--server", server.base, "report", str(gid), "--highlights", str(tampered))
    assert asked.returncode != 0 and f"#{tampered} is not a counted case" in asked.stderr
    assert MARKER not in asked.stdout + asked.stderr

    # a daily report in French with one highlighted case, published to the library
    async with Cordon(home, PASSPHRASE, server=server.base) as coord:
        first = min(i.seq for i in archived(coord, gid) if i.type == "seizure_case" and i.valid)
    day = the_plan.cases[reporter][0]["reports"][0]["seizure_date"]
    daily = report(
        "--daily-report",
        "--to",
        day,
        "--lang",
        "fr",
        "--format",
        "html,pdf",
        "--highlights",
        str(first),
        "--publish",
    )
    assert daily["key_figures"]["cases"] >= 1 and len(daily["published"]) == 2
    page = (out / f"daily-report-{day}.html").read_text("utf-8")
    assert "Rapport quotidien" in page and "synthetic" in page and "narrative" not in page
    async with Cordon(home, PASSPHRASE, server=server.base) as coord:
        docs = await coord.library_documents(gid)
    assert sorted(d.category for d in docs) == ["daily_report", "daily_report"]

    # the same operation in Arabic: right to left, the words and code labels translated
    arabic = report(
        "--analysis-report", "--lang", "ar", "--format", "html,pdf", "--highlights", str(first)
    )
    assert arabic["key_figures"] == table["key_figures"]
    page = (out / "analysis-report-start_now.html").read_text("utf-8")
    assert '<html lang="ar" dir="rtl">' in page and "الأرقام الرئيسية" in page
    assert "حالات بارزة" in page and " ← " in page  # a highlighted case's route reads right to left
    assert (out / "analysis-report-start_now.pdf").read_bytes().startswith(b"%PDF")
    refused = cordon(home, "--server", server.base, "report", str(gid), "--lang", "de")
    assert refused.returncode != 0 and "en, fr, es, ru, ar, pt" in refused.stderr
