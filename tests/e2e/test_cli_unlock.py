"""The keystore unlock as a person meets it through the real `cordon` executable: one
passphrase, then commands without it until `cordon lock`, logout, a password change, or an
unlock file that cannot be trusted (then the passphrase is asked for again)."""

import asyncio
import os
import stat
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.e2e.joining import PASSPHRASE
from tests.e2e.server import Server
from tests.e2e.typed import cordon, ok

pytestmark = pytest.mark.e2e


def _typed(
    home: Path, *args: str, stdin: str = "", passphrase: bool = False
) -> subprocess.CompletedProcess[str]:
    """`cordon --home HOME ARGS`; CORDON_PASSPHRASE only when `passphrase`."""
    return cordon(home, *args, stdin=stdin, passphrase=PASSPHRASE if passphrase else None)


def _asked_for_passphrase(done: subprocess.CompletedProcess[str]) -> bool:
    """No passphrase at hand and none typed: the prompt met end of input."""
    return done.returncode == 1 and "Keystore passphrase" in done.stdout + done.stderr


async def test_one_unlock_serves_until_lock_logout_or_password_change(
    server: Server, session: AsyncSession, tmp_path: Path
) -> None:
    jane, _ = await f.user(session)
    home = tmp_path / "jane"
    unlock = home / "unlock.json"

    def flow() -> None:
        login = _typed(
            home,
            "--server",
            server.base,
            "login",
            jane.username,
            stdin=f"{f.PASSWORD}\n",
            passphrase=True,
        )
        ok(login)
        assert stat.S_IMODE(unlock.stat().st_mode) == 0o600

        keystore = (home / "keystore.json").read_bytes()
        ok(_typed(home, "groups"))  # no passphrase at hand, none asked for
        assert (home / "keystore.json").read_bytes() == keystore  # nothing changed, not rewritten

        assert "locked" in ok(_typed(home, "lock"))
        assert not unlock.exists()
        assert _asked_for_passphrase(_typed(home, "groups"))
        ok(_typed(home, "groups", passphrase=True))
        assert unlock.exists()

        os.chmod(unlock, 0o644)
        refused = _typed(home, "groups")
        assert _asked_for_passphrase(refused)
        assert "unlock file ignored" in refused.stdout + refused.stderr
        assert not unlock.exists()
        ok(_typed(home, "groups", stdin=f"{PASSPHRASE}\n"))  # typed at the prompt
        assert unlock.exists()

        new = "a brand new password 123"
        ok(_typed(home, "password", stdin=f"{f.PASSWORD}\n{new}\n{new}\n"))
        assert not unlock.exists()
        ok(_typed(home, "groups", passphrase=True))
        assert unlock.exists()
        ok(_typed(home, "logout"))
        assert not unlock.exists()

    await asyncio.to_thread(flow)
