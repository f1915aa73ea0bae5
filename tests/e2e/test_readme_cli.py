"""The README's client commands typed as a person types them: the installed `cordon`
executable in its own process, global options on the command line (`--server`, `--home`),
no `CORDON_HOME` / `CORDON_SERVER` in the environment, the password answered at its prompt.

Tests that set the environment instead once hid that `--server` and `--home` were ignored.
"""

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest
from cordon_client._client import Cordon
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e
PASSPHRASE = "keystore passphrase for tests"
CORDON = str(Path(sys.executable).with_name("cordon"))


def _typed(fake_home: Path, *args: str, stdin: str = "") -> str:
    """Run `cordon ARGS` as a separate process with no terminal (the prompt reads stdin)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CORDON_")} | {
        "HOME": str(fake_home),
        "CORDON_PASSPHRASE": PASSPHRASE,
        "COLUMNS": "200",
    }
    done = subprocess.run(
        [CORDON, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        start_new_session=True,
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


async def test_member_joins_by_invitation_and_reads_an_alert_as_the_readme_shows(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """login with --server/--home, join by invitation, be admitted, certify, receive."""
    admin_u, admin_seed = await f.user(session, admin=True, totp=True)
    coord_u, coord_seed = await f.user(session, totp=True)
    jane_u, _ = await f.user(session)
    coord_home, jane_home, fake_home = tmp_path / "coord", tmp_path / "jane", tmp_path / "home"
    fake_home.mkdir()
    admin = Cordon(tmp_path / "admin", PASSPHRASE, server=server.base, scrypt_n=2**14)
    await admin.login(admin_u.username, f.PASSWORD, pyotp.TOTP(admin_seed).now())
    coord = Cordon(coord_home, PASSPHRASE, server=server.base, scrypt_n=2**14)
    await coord.login(coord_u.username, f.PASSWORD, pyotp.TOTP(coord_seed).now())
    gid = await admin.create_group("Operation README", coordinator_id=coord_u.id)
    await coord.set_group_status(gid, "active")
    await coord.open_group_log(gid)
    for client in (admin, coord):
        await client.aclose()
    c, j = ("--home", str(coord_home)), ("--home", str(jane_home))

    def flow() -> str:
        shown = _typed(fake_home, *c, "group", "invite", str(gid), "--for", jane_u.username)
        invitation = re.search(r"cordon-invite:\S+", shown)
        assert invitation is not None, shown
        _typed(
            fake_home,
            "--server",
            server.base,
            *j,
            "login",
            jane_u.username,
            stdin=f"{f.PASSWORD}\n",
        )
        _typed(fake_home, *j, "group", "join", "--invitation", invitation.group(0))
        _typed(fake_home, *c, "group", "admit", str(gid))
        _typed(fake_home, *j, "group", "join", str(gid))
        _typed(fake_home, *c, "send", str(gid), "Container MSCU1234567 flagged", "--urgent")
        received = _typed(fake_home, *j, "receive")
        _typed(fake_home, *j, "cases", "list", str(gid))
        _typed(fake_home, *j, "library", "ls", str(gid))
        return received

    received = await asyncio.to_thread(flow)
    assert "Container MSCU1234567 flagged" in received, received
    assert "NOT VERIFIED" not in received, received
    assert (jane_home / "keystore.json").exists() or any(jane_home.iterdir())
    assert not (fake_home / ".cordon").exists()  # --home was honoured, not ~/.cordon
