"""A member's new SDK device gets its history from the first (PROTOCOL.md §9,
HISTORY_TRANSFER): `cordon device link G CODE` certifies it and hands it the chain states,
document keys and the records archive (in the browser's archive form), so `cordon cases list`
on the new device shows the cases that came before it; what it verified itself stands."""

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from cordon_client._client import Cordon
from cordon_client.cli.main import app as cordon_cli
from cordon_client.messaging import history
from cordon_client.records.store import archived, sync
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app.messages.models import StreamItem
from app.users.models import User
from tests import factories as f
from tests.e2e.server import Server
from tests.e2e.test_domain_cli import PASSPHRASE, Officer, _group, _seq
from tests.templates import samples

pytestmark = pytest.mark.e2e


async def _cli(home: Path, *args: str) -> str:
    env = {"CORDON_HOME": str(home), "CORDON_PASSPHRASE": PASSPHRASE, "COLUMNS": "200"}
    result = await asyncio.to_thread(CliRunner().invoke, cordon_cli, list(args), None, env)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


async def test_linking_a_new_sdk_device_hands_it_the_earlier_cases(
    server: Server, session: AsyncSession, tmp_path: Path
):
    p = await _group(server, session, tmp_path, ["alice", "bob"])
    alice, bob, coord = p["alice"], p["bob"], p["coord"]
    gid = coord.group_id
    case = samples.case()
    case["reports"][0]["items"][0]["quantity"] = 43217  # told apart in `cases show`
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(case))
    case_seq = _seq(
        (await bob.run("cases", "create", "-f", str(case_file), "--form", "simplified")).output
    )
    await bob.run("cases", "reply", str(case_seq), "Seen at the port of entry")
    assert str(case_seq) in (await alice.run("cases", "list")).output  # the first device reads

    # Alice's new device: logged in, its code entered on the first device, which links it
    # and sends the history in the same command.
    username = (await session.execute(select(User.username).where(User.id == alice.id))).scalar()
    phone_home = tmp_path / "alice-phone"
    async with Cordon(coord.home, PASSPHRASE, server=server.base, scrypt_n=2**14) as c:
        code = c.fingerprint(gid)[0]
    async with Cordon(phone_home, PASSPHRASE, server=server.base, scrypt_n=2**14) as phone:
        await phone.login(str(username), f.PASSWORD)
        link_code = phone.link_code()
    linked = await _cli(alice.home, "device", "link", str(gid), link_code)
    assert "linked device" in linked
    assert "history sent to the new device: 2 earlier items" in linked, linked
    transfers = (
        await session.execute(
            select(StreamItem.seq).where(
                StreamItem.group_id == gid, StreamItem.kind == "history_transfer"
            )
        )
    ).all()
    assert len(transfers) == 1
    async with Cordon(phone_home, PASSPHRASE, server=server.base, scrypt_n=2**14) as phone:
        await phone.join_group(gid, expected_fingerprint=code)

    new = Officer(phone_home, alice.id, gid)
    listed = (await new.run("cases", "list")).output
    assert str(case_seq) in listed and "refused" not in listed
    shown = (await new.run("cases", "show", str(case_seq))).output
    assert "43217" in shown and "reply: Seen at the port of entry" in shown
    assert "refused" not in shown

    # What comes after the link reaches the new device directly (its chain came along or is
    # handed to it now), and a transferred record never replaces one it verified itself.
    later = _seq(
        (await bob.run("cases", "create", "-f", str(case_file), "--form", "simplified")).output
    )
    assert str(later) in (await new.run("cases", "list")).output
    async with Cordon(phone_home, PASSPHRASE, server=server.base, scrypt_n=2**14) as phone:
        [own] = [i for i in archived(phone, gid) if i.seq == later]
        assert own.valid
        forged = {**own.to_json(), "data": {"rewritten": "by a transfer"}}
        history.keep_transfer(phone.state, gid, [forged])
        phone._save()
        await sync(phone)
        assert [i for i in archived(phone, gid) if i.seq == later] == [own]
        assert not history.groups_with_transfers(phone.state)


async def test_a_transfer_archive_in_parts_round_trips(tmp_path: Path):
    """The archive goes in parts of at most the budget (the first less the keys it carries),
    each a complete archive in the browser's form; foreign or malformed parts are nothing."""
    gid = uuid.uuid4()
    records = [{"group_id": str(gid), "seq": n, "valid": True, "pad": "x" * 90} for n in range(50)]
    parts = history.transfer_archives(gid, records, first=1_000, budget=2_000)
    assert len(parts) > 3 and all(len(p) < 2_200 for p in parts)
    back = [r for p in parts for r in history.parse_transfer_archive(gid, p)]
    assert back == records
    assert json.loads(parts[0]) == {"v": 1, "group_id": str(gid), "feed": [], "records": []} or (
        len(json.loads(parts[0])["records"]) < len(json.loads(parts[1])["records"])
    )
    assert history.transfer_archives(gid, []) == [
        json.dumps({"v": 1, "group_id": str(gid), "feed": [], "records": []}).encode()
    ]
    other = history.transfer_archives(uuid.uuid4(), records)[0]
    for bad in (b"", b"\xff", b"[]", b'{"v": 2}', other):
        assert history.parse_transfer_archive(gid, bad) == []
