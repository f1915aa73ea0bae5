"""History for late joiners end to end (PROTOCOL.md §9): a coordinator's logged grant lets a
replacement officer read the operation's earlier cases (with their replies and the
coordinator's own review) and pre-notifications; a member without the grant gets neither the
items from the server nor anything in `cases list`."""

import asyncio
import json
import re
import uuid
from pathlib import Path

import pytest
from cordon_client._client import Cordon
from cordon_client.cli.main import app as cordon_cli
from cordon_client.exceptions import ApiError
from cordon_client.records.store import archived, sync_all
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app.messages.models import StreamItem
from tests import factories as f
from tests.e2e.joining import admit
from tests.e2e.server import Server
from tests.e2e.test_domain_cli import PASSPHRASE, Officer, _group, _seq
from tests.templates import samples

pytestmark = pytest.mark.e2e


async def _join(server: Server, session: AsyncSession, tmp: Path, name: str, gid: uuid.UUID):
    """A member added after the operation's first items, joining with the fingerprint."""
    u, _ = await f.user(session)
    coord = Cordon(tmp / "coord", PASSPHRASE, server=server.base, scrypt_n=2**14)
    member = Cordon(tmp / name, PASSPHRASE, server=server.base, scrypt_n=2**14)
    try:
        await member.login(u.username, f.PASSWORD)
        await admit(coord, member, gid, u.username)
        await member.join_group(gid, expected_fingerprint=coord.fingerprint(gid)[0])
    finally:
        await member.aclose()
        await coord.aclose()
    return Officer(tmp / name, u.id, gid)


async def test_granted_late_joiner_reads_earlier_cases_and_prenotifications(
    server: Server, session: AsyncSession, tmp_path: Path
):
    p = await _group(server, session, tmp_path, ["alice", "bob"])
    alice, bob, coord = p["alice"], p["bob"], p["coord"]
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(samples.case()))
    posted = await alice.run("cases", "create", "-f", str(case_file), "--form", "simplified")
    case_seq = _seq(posted.output)
    await bob.run("cases", "reply", str(case_seq), "Which airport exactly?")
    pn_file = tmp_path / "pn.json"
    pn_file.write_text(json.dumps(samples.prenotification()))
    sent = await alice.run(
        "prenotifications", "send", "-f", str(pn_file), "--destination", str(bob.id)
    )
    pn_id = re.search(r"pre-notification ([0-9a-f-]{36})", sent.output).group(1)  # type: ignore[union-attr]
    assert str(case_seq) in (await coord.run("cases", "list")).output  # coord opens them
    await coord.run("cases", "review", str(case_seq), "--verdict", "verified", "--note", "ok")
    await bob.run("prenotifications", "ack", pn_id)
    await bob.run("prenotifications", "arrive", pn_id)
    await bob.run(
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
    assert pn_id in (await coord.run("prenotifications", "list", "--json")).output

    gid = coord.group_id
    late = await _join(server, session, tmp_path, "late", gid)
    other = await _join(server, session, tmp_path, "other", gid)
    for who in (late, other):
        assert str(case_seq) not in (await who.run("cases", "list")).output

    env = {"CORDON_HOME": str(coord.home), "CORDON_PASSPHRASE": PASSPHRASE, "COLUMNS": "200"}
    granted = await asyncio.to_thread(
        CliRunner().invoke,
        cordon_cli,
        ["group", "grant-history", str(gid), str(late.id), "--scope", "cases"],
        None,
        env,
    )
    assert granted.exit_code == 0, granted.output + repr(granted.exception)
    assert "cases history granted" in granted.output and "3 earlier items" in granted.output
    async with Cordon(coord.home, PASSPHRASE, server=server.base, scrypt_n=2**14) as c:
        # the pre-notification, its discrepancy detail and three signed status events
        assert await c.grant_history(gid, late.id, "prenotifications") == 5

    listed = await late.run("cases", "list", "--status", "verified")
    assert str(case_seq) in listed.output
    shown = await late.run("cases", "show", str(case_seq))
    assert "reply: Which airport exactly?" in shown.output and "refused" not in shown.output
    assert "review: verified ok" in shown.output
    [record] = [c for c in await late.export("cases") if c["meta"]["seq"] == case_seq]
    assert record["data"]["reporting_country"] == samples.case()["reporting_country"]
    assert pn_id in (await late.run("prenotifications", "list", "--json")).output
    shown = await late.run("prenotifications", "show", pn_id)
    assert "status: discrepancy" in shown.output and "one pallet missing" in shown.output
    assert "refused" not in shown.output

    assert str(case_seq) not in (await other.run("cases", "list")).output
    async with Cordon(other.home, PASSPHRASE, server=server.base, scrypt_n=2**14) as c:
        with pytest.raises(ApiError) as err:
            await c._call("GET", f"/api/v1/groups/{gid}/history/cases", params={"seq": case_seq})
    assert (err.value.status, err.value.code) == (403, "library.history_not_granted")


async def test_grant_larger_than_one_envelope_goes_in_parts_and_imports_whole(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """A grant of more items than one envelope holds (Operation STOP II had 2,769 cases; an
    envelope holds about 1,400 grant items) goes as several HISTORY_GRANT envelopes of at most
    `GRANT_CHUNK` items, the log entry once; the member keeps every part and imports all."""
    p = await _group(server, session, tmp_path, ["alice"])
    alice, coord = p["alice"], p["coord"]
    gid = coord.group_id
    total = 1_900
    async with Cordon(alice.home, PASSPHRASE, server=server.base, scrypt_n=2**14) as a:
        seqs = await a.send_many(gid, [f"earlier alert {n}" for n in range(total)])
    async with Cordon(coord.home, PASSPHRASE, server=server.base, scrypt_n=2**14) as c:
        opened = 0
        while True:  # the coordinator opens them (and keeps each key)
            opened += sum(1 for i in await c.receive() if i.kind == "alert")
            if c.caught_up:
                break
        assert opened == total
    late = await _join(server, session, tmp_path, "late", gid)
    async with Cordon(coord.home, PASSPHRASE, server=server.base, scrypt_n=2**14) as c:
        assert await c.grant_history(gid, late.id, "cases") == total
        writer = await c._verified_writer(gid)
    assert [e.op for e in writer.entries].count("grant_history") == 1  # the log entry once
    parts = (
        await session.execute(
            select(StreamItem.envelope).where(
                StreamItem.group_id == gid, StreamItem.kind == "library"
            )
        )
    ).scalars()
    sizes = sorted(len(e) for e in parts)
    assert len(sizes) == 2 and all(s <= 262_144 for s in sizes), sizes  # 1,000 + 900 items

    async with Cordon(late.home, PASSPHRASE, server=server.base, scrypt_n=2**14) as m:
        items = await sync_all(m)
        held = archived(m, gid)
    assert len([i for i in items if i.valid]) == total, [i.error for i in items if not i.valid][:3]
    assert {i.seq for i in held if i.valid} == set(seqs)
    assert {i.data["text"] for i in held if i.seq == seqs[-1]} == {f"earlier alert {total - 1}"}
