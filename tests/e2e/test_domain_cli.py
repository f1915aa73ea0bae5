"""`cordon cases` and `cordon prenotifications` end to end against a real uvicorn.

Accounts, the group and its signed log are set up with the SDK; everything after that is the
CLI (typer's runner, in-process, talking HTTP to the server), one state directory per user.
"""

import asyncio
import csv
import io
import json
import re
import uuid
from pathlib import Path

import pyotp
import pytest
import typer
import yaml
from click.testing import Result
from cordon_client._client import Cordon
from cordon_client.cli.cases import cases_app
from cordon_client.cli.prenotifications import prenotifications_app
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from tests import factories as f
from tests.e2e.joining import admit
from tests.e2e.server import Server
from tests.templates import samples

pytestmark = pytest.mark.e2e
PASSPHRASE = "keystore passphrase for tests"
ROOT = typer.Typer()
ROOT.add_typer(cases_app, name="cases")
ROOT.add_typer(prenotifications_app, name="prenotifications")


class Officer:
    """One user's device, driven through the CLI."""

    def __init__(self, home: Path, user_id: uuid.UUID, group_id: uuid.UUID) -> None:
        self.home, self.id, self.group_id = home, user_id, group_id

    async def run(self, *args: str, ok: bool = True, stdin: str | None = None) -> Result:
        """Invoke `cordon CMD SUB GROUP ARGS…` as this officer: the group goes first, as typed
        (in a thread: the CLI runs its own event loop)."""
        env = {"CORDON_HOME": str(self.home), "CORDON_PASSPHRASE": PASSPHRASE, "COLUMNS": "250"}
        if len(args) >= 2 and not args[1].startswith("-"):
            args = (args[0], args[1], str(self.group_id), *args[2:])
        result = await asyncio.to_thread(CliRunner().invoke, ROOT, list(args), stdin, env)
        if ok:
            assert result.exit_code == 0, result.output + repr(result.exception)
        return result

    async def export(self, what: str) -> list[dict]:
        """The JSON export of what this device decrypted."""
        return list(json.loads((await self.run(what, "export", "--format", "json")).output))


async def _group(server: Server, session: AsyncSession, tmp: Path, names: list[str]) -> dict:
    """An active group whose log certifies a coordinator and one member per name."""
    admin_u, admin_seed = await f.user(session, admin=True, totp=True)
    coord_u, coord_seed = await f.user(session, totp=True)
    admin = Cordon(tmp / "admin", PASSPHRASE, server=server.base, scrypt_n=2**14)
    await admin.login(admin_u.username, f.PASSWORD, pyotp.TOTP(admin_seed).now())
    coord = Cordon(tmp / "coord", PASSPHRASE, server=server.base, scrypt_n=2**14)
    await coord.login(coord_u.username, f.PASSWORD, pyotp.TOTP(coord_seed).now())
    gid = await admin.create_group("Operation Cold Chain", coordinator_id=coord_u.id)
    await coord.set_group_status(gid, "active")
    code = await coord.open_group_log(gid)
    people = {"coord": Officer(tmp / "coord", coord_u.id, gid)}
    for name in names:
        u, _ = await f.user(session)
        member = Cordon(tmp / name, PASSPHRASE, server=server.base, scrypt_n=2**14)
        await member.login(u.username, f.PASSWORD)
        await admit(coord, member, gid, u.username)
        await member.join_group(gid, expected_fingerprint=code)
        await member.aclose()
        people[name] = Officer(tmp / name, u.id, gid)
    await admin.aclose()
    await coord.aclose()
    return people


def _seq(output: str) -> int:
    return int(re.search(r"#(\d+)", output).group(1))  # type: ignore[union-attr]


async def test_prenotification_workflow_through_the_cli(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """Only the parties see it; each signed transition reaches the sender; a discrepancy
    becomes a case in one step; exports hold the decrypted fields."""
    p = await _group(server, session, tmp_path, ["departure", "destination", "transit", "other"])
    sender, dest, transit, other = p["departure"], p["destination"], p["transit"], p["other"]
    pn_file = tmp_path / "pn.json"
    pn_file.write_text(json.dumps(samples.prenotification()))

    sent = await sender.run(
        "prenotifications",
        "send",
        "-f",
        str(pn_file),
        "--destination",
        str(dest.id),
        "--transit",
        str(transit.id),
    )
    pn_id = re.search(r"pre-notification ([0-9a-f-]{36})", sent.output).group(1)  # type: ignore[union-attr]

    assert pn_id not in (await other.run("prenotifications", "list", "--json")).output
    assert await other.export("prenotifications") == []
    refused = await other.run("prenotifications", "show", pn_id, ok=False)
    assert refused.exit_code == 1 and "prenotification.not_found" in refused.output

    amended = samples.prenotification()
    amended["product"]["doses"] = 116000
    amended_file = tmp_path / "pn-v2.json"
    amended_file.write_text(json.dumps(amended))
    await sender.run("prenotifications", "amend", pn_id, "-f", str(amended_file))
    shown = await dest.run("prenotifications", "show", pn_id)
    assert "status: amended; version 2" in shown.output and "116000" in shown.output

    overdue = await dest.run("prenotifications", "list", "--overdue", "--country", "gh", "--json")
    assert pn_id in overdue.output and "amended" in overdue.output
    assert (
        pn_id
        not in (await dest.run("prenotifications", "list", "--country", "KE", "--json")).output
    )

    await dest.run("prenotifications", "ack", pn_id)
    shown = await sender.run("prenotifications", "show", pn_id)
    assert "status: acknowledged" in shown.output and "amended → acknowledged" in shown.output
    assert "refused" not in shown.output
    assert pn_id not in (await dest.run("prenotifications", "list", "--overdue", "--json")).output

    await dest.run("prenotifications", "arrive", pn_id)
    await dest.run(
        "prenotifications",
        "discrepancy",
        pn_id,
        "--kind",
        "quantity",
        "--details",
        "one pallet missing",
        "--lot",
        "FF1234",
        "--quantity-found",
        "50000",
    )
    shown = await sender.run("prenotifications", "show", pn_id)
    assert "status: discrepancy" in shown.output and "one pallet missing" in shown.output
    listed = await transit.run("prenotifications", "list", "--status", "discrepancy", "--json")
    assert pn_id in listed.output
    wrong = await transit.run("prenotifications", "clear", pn_id, ok=False)
    assert wrong.exit_code == 1 and "may not move" in wrong.output

    made = await dest.run("prenotifications", "to-case", pn_id, "--reporting-country", "GH")
    case_seq = _seq(made.output)
    [case] = [c for c in await p["coord"].export("cases") if c["meta"]["seq"] == case_seq]
    item = case["data"]["reports"][0]["items"][0]
    assert (item["batch"], item["unit"], case["data"]["handling_code"]) == ("FF1234", "DOS", "H2")

    exported = await p["coord"].run("prenotifications", "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert {r["lot.lot_number"] for r in rows} == {"FF1234", "FF1235"}
    assert {r["meta_status"] for r in rows} == {"discrepancy"}
    assert rows[0]["product.trade_name"] == "Comirnaty"


async def test_cases_through_the_cli(server: Server, session: AsyncSession, tmp_path: Path):
    """Post (file, YAML, prompt), reply, verify, amend with history kept, refuse invalid
    content with its field path, import CSV with a per-row report, export CSV and JSON."""
    p = await _group(server, session, tmp_path, ["alice", "bob"])
    alice, bob, coord = p["alice"], p["bob"], p["coord"]
    case_file = tmp_path / "case.yaml"
    case_file.write_text(yaml.safe_dump(samples.case()))
    posted = await alice.run("cases", "create", "-f", str(case_file), "--form", "simplified")
    seq = _seq(posted.output)

    bad = samples.case()
    bad["reports"][0]["items"][0]["hs_code"] = "3002.4"
    bad_file = tmp_path / "bad.json"
    bad_file.write_text(json.dumps(bad))
    refused = await alice.run(
        "cases", "create", "-f", str(bad_file), "--form", "simplified", ok=False
    )
    assert refused.exit_code == 1
    assert "reports[0].items[0].hs_code: '3002.4' is not an allowed code" in refused.output

    await bob.run("cases", "reply", str(seq), "Which airport exactly?")
    await coord.run("cases", "review", str(seq), "--verdict", "verified", "--note", "checked")
    not_coord = await bob.run("cases", "review", str(seq), "--verdict", "verified", ok=False)
    assert "only a coordinator" in not_coord.output
    assert str(seq) in (await bob.run("cases", "list", "--status", "verified")).output

    amended = samples.case()
    amended["reports"][0]["items"][0]["quantity"] = 1500
    amended_file = tmp_path / "amended.json"
    amended_file.write_text(json.dumps(amended))
    other = await bob.run("cases", "amend", str(seq), "-f", str(amended_file), ok=False)
    assert "only the case's sender" in other.output
    await alice.run("cases", "amend", str(seq), "-f", str(amended_file), "--form", "simplified")
    shown = await bob.run("cases", "show", str(seq))
    assert "status: amended; version 2" in shown.output
    assert "reply: Which airport exactly?" in shown.output
    assert "review: verified checked" in shown.output
    [record] = [c for c in await coord.export("cases") if c["meta"]["seq"] == seq]
    assert record["data"]["reports"][0]["items"][0]["quantity"] == 1500
    assert record["meta"]["version"] == 2

    prompted = await bob.run(
        "cases",
        "create",
        stdin="\n".join(
            [
                "be",
                "H1",
                "b",
                "2",
                "2021-05-04",
                "airport",
                "import",
                "in",
                "be",
                "air",
                "medicines",
                "3004",
                "120",
                "pce",
            ]
        )
        + "\n",
    )
    prompted_seq = _seq(prompted.output.split("posted case")[-1])

    csv_file = tmp_path / "reports.csv"
    csv_file.write_text(
        "case_ref,reporting_country,handling_code,source_reliability,information_accuracy,"
        "seizure_date,place_type,direction,departure_country,destination_country,"
        "transport_mode,category,hs_code,quantity,unit\n"
        "A,BE,H1,B,2,2021-05-04,airport,import,IN,BE,air,medicines,3004,100,PCE\n"
        "A,BE,H1,B,2,2021-05-04,airport,import,IN,BE,air,ppe,6307.90,5000,PCE\n"
        "B,BE,H1,B,2,2021-05-04,airport,import,IN,BE,air,medicines,3002.4,10,PCE\n"
        "C,BE,H1,B,2,2021-05-05,seaport,import,CN,BE,sea,test_kits,3822,many,PCE\n"
    )
    imported = await bob.run("cases", "import-csv", str(csv_file), ok=False)
    assert imported.exit_code == 1
    assert "row 4, hs_code: '3002.4' is not an allowed code" in imported.output
    assert "row 5, quantity: 'many': not a number" in imported.output
    assert "imported 1 case(s)" in imported.output

    exported = await coord.run("cases", "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert {r["meta_seq"] for r in rows} >= {str(seq), str(prompted_seq)}
    assert [r["hs_code"] for r in rows if r["case_ref"] == "A"] == ["3004", "6307.90"]
    assert all(r["handling_code"] == "H1" for r in rows)
