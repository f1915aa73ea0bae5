"""Joining at scale and the fallbacks, through a real server: `admit` certifies only join
requests whose MAC verifies, the safety-number fallback refuses a substituted directory key,
and a second device is linked through the CLI by its code."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from cordon_client._crypto import new_signing_key, public_bytes
from cordon_client._crypto._encoding import b64e
from cordon_client.cli import app
from cordon_client.exceptions import BindingError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app.invitations.models import JoinRequest
from tests.e2e.server import Server
from tests.e2e.test_log_attacks import PASSPHRASE, _alerts, _group, _login, proxy

pytestmark = pytest.mark.e2e


async def test_admit_certifies_only_bound_join_requests(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """Three invitations answered; the operator swaps one key in the database; `admit`
    certifies the two bound keys, refuses the third by name, and the two read an alert."""
    gid, coord, people = await _group(server, session, tmp_path, "a", "b", "c")
    for u, c in people.values():
        await c.request_join(await coord.invite(gid, for_user=u.username))
    victim_u = people["c"][0]
    row = await session.scalar(select(JoinRequest).where(JoinRequest.user_id == victim_u.id))
    assert row is not None
    row.member_key = public_bytes(new_signing_key())
    await session.commit()
    outcome = dict(await coord.admit_all(gid))
    assert outcome[people["a"][0].username] == "added (invitation)"
    assert outcome[people["b"][0].username] == "added (invitation)"
    assert outcome[victim_u.username].startswith("refused: join request of member")
    roster = await coord.roster(gid)
    assert victim_u.id not in roster.members
    for name in ("a", "b"):
        await people[name][1].join_group(gid)
    seq = await coord.send(gid, "to the admitted", kind="alert")
    for name in ("a", "b"):
        assert (await _alerts(people[name][1]))[seq].text == "to the admitted"
    await coord.aclose()
    for _, c in people.values():
        await c.aclose()


async def test_safety_number_fallback_refuses_a_substituted_directory_key(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """Without an invitation, the coordinator must pass the member's safety number: a key
    swapped by the directory is refused; the real one is added, reported as `fingerprint`."""
    gid, coord, people = await _group(server, session, tmp_path, "alice")
    alice_u, alice = people["alice"]
    number, qr = alice.member_fingerprint()
    with pytest.raises(BindingError, match="no join request from"):
        await coord.add_member(gid, alice_u.id)
    evil = b64e(public_bytes(new_signing_key()))

    def swap(request: httpx.Request, data: Any) -> Any:
        if request.url.path.endswith("/member-keys"):
            for item in data:
                item["member_key"] = evil
        return data

    await coord._call(  # noqa: SLF001  (admit on the server so the directory lists her)
        "POST", f"/api/v1/groups/{gid}/members", json={"user_id": str(alice_u.id), "role": "member"}
    )
    proxy(coord).edit = swap
    with pytest.raises(BindingError, match=f"directory's key {evil} does not match"):
        await coord.add_member(gid, alice_u.id, member_fingerprint=number)
    proxy(coord).edit = None
    assert await coord.add_member(gid, alice_u.id, member_fingerprint=qr) == "fingerprint"
    await alice.join_group(gid, expected_fingerprint=coord.fingerprint(gid)[0])
    seq = await coord.send(gid, "bound by safety number", kind="alert")
    assert (await _alerts(alice))[seq].text == "bound by safety number"
    await coord.aclose()
    await alice.aclose()


async def _cli(home: Path, server: Server, *args: str) -> Result:
    env = {"CORDON_HOME": str(home), "CORDON_PASSPHRASE": PASSPHRASE}
    env |= {"CORDON_SERVER": server.base, "COLUMNS": "250"}
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args), None, env)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


async def test_device_link_and_head_through_the_cli(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """The phone shows its link code, the first device links it; both show the same head."""
    gid, coord, people = await _group(server, session, tmp_path, "alice")
    alice_u, alice = people["alice"]
    await alice.request_join(await coord.invite(gid, for_user=alice_u.username))
    assert await coord.add_member(gid, alice_u.username) == "invitation"
    await alice.join_group(gid)
    code = alice.fingerprint(gid)[0]
    await alice.aclose()
    phone = await _login(server, tmp_path / "phone", alice_u)
    await phone.aclose()
    phone_home, alice_home = tmp_path / "phone" / alice_u.username, tmp_path / alice_u.username
    shown = (await _cli(phone_home, server, "device", "link-code")).output
    link = re.search(r"link code:\s+(\S+)", shown).group(1)  # type: ignore[union-attr]
    linked = await _cli(alice_home, server, "device", "link", str(gid), link)
    assert "key bound by its link code" in linked.output
    await _cli(phone_home, server, "group", "join", str(gid), "--fingerprint", code)
    heads = [
        (await _cli(home, server, "group", "head", str(gid))).output
        for home in (alice_home, phone_home)
    ]
    assert heads[0] == heads[1] and "head seq" in heads[0]
    await coord.aclose()
