"""Linking a second device through the CLI by its code, and comparing heads."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pyotp
import pytest
from click.testing import Result
from cordon_client._client import Cordon
from cordon_client.cli.main import app
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from tests import factories as f
from tests.e2e.joining import admit
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e
PASSPHRASE = "keystore passphrase for tests"


async def _login(server: Server, home: Path, username: str, seed: str | None = None) -> Cordon:
    client = Cordon(home, PASSPHRASE, server=server.base, scrypt_n=2**14)
    await client.login(username, f.PASSWORD, pyotp.TOTP(seed).now() if seed else None)
    return client


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
    admin_u, admin_seed = await f.user(session, admin=True, totp=True)
    coord_u, coord_seed = await f.user(session, totp=True)
    alice_u, _ = await f.user(session)
    admin = await _login(server, tmp_path / "admin", admin_u.username, admin_seed)
    coord = await _login(server, tmp_path / "coord", coord_u.username, coord_seed)
    gid = await admin.create_group("Operation Second Screen", coordinator_id=coord_u.id)
    await coord.set_group_status(gid, "active")
    code = await coord.open_group_log(gid)
    alice_home, phone_home = tmp_path / "alice", tmp_path / "phone"
    alice = await _login(server, alice_home, alice_u.username)
    await admit(coord, alice, gid, alice_u.username)
    await alice.join_group(gid)
    for client in (admin, coord, alice, await _login(server, phone_home, alice_u.username)):
        await client.aclose()

    shown = (await _cli(phone_home, server, "device", "link-code")).output
    link = re.search(r"link code:\s+(\S+)", shown).group(1)  # type: ignore[union-attr]
    linked = await _cli(alice_home, server, "device", "link", str(gid), link)
    assert "key bound by its link code" in linked.output
    await _cli(phone_home, server, "group", "join", str(gid), "--fingerprint", code)
    heads = [
        (await _cli(home, server, "group", "head", str(gid))).output
        for home in (alice_home, phone_home)
    ]
    assert heads[0] == heads[1] and "head seq 5, epoch " in heads[0]
