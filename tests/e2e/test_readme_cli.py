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

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.e2e.joining import PASSPHRASE, opened_group
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e
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
    admin = await f.user(session, admin=True, totp=True)
    coord = await f.user(session, totp=True)
    jane_u, _ = await f.user(session)
    coord_home, jane_home, fake_home = tmp_path / "coord", tmp_path / "jane", tmp_path / "home"
    fake_home.mkdir()
    gid, _ = await opened_group(server.base, tmp_path, admin, coord, "Operation README")
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
