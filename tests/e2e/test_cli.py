"""The `cordon` CLI end to end against a real uvicorn: log in, open and join a group by its
fingerprint, send, receive and listen, and clean refusals for expected failures.

Commands run in-process through typer's runner (in a thread: each runs its own event loop);
`cordon listen` runs as a real subprocess so it can wait while another user sends.
"""

import asyncio
import json
import os
import re
import sys
import uuid
from pathlib import Path

import pyotp
import pytest
from click.testing import Result
from cordon_client import Cordon
from cordon_client.cli.main import app
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from tests import factories as f
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e
PASSPHRASE = "keystore passphrase for tests"


class User:
    """One person's state directory, driven through the CLI."""

    def __init__(self, server: Server, home: Path) -> None:
        self.home = home
        self.env = {
            "CORDON_HOME": str(home),
            "CORDON_PASSPHRASE": PASSPHRASE,
            "CORDON_SERVER": server.base,
            "COLUMNS": "250",
        }

    async def run(self, *args: str, ok: bool = True, stdin: str | None = None) -> Result:
        """Invoke `cordon ARGS` as this user."""
        result = await asyncio.to_thread(CliRunner().invoke, app, list(args), stdin, self.env)
        if ok:
            assert result.exit_code == 0, result.output + repr(result.exception)
        return result


def _clean_failure(result: Result, text: str) -> None:
    """Exit 1 with the reason shown and no traceback."""
    assert result.exit_code == 1, result.output
    assert text in result.output, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


async def test_cli_login_join_send_receive_listen(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """A coordinator and a member use only the CLI: TOTP login, open-log, join by fingerprint
    (a wrong one refused), send, receive and a bounded listen show the verified text."""
    admin_u, admin_seed = await f.user(session, admin=True, totp=True)
    coord_u, coord_seed = await f.user(session, totp=True)
    alice_u, _ = await f.user(session)
    admin = Cordon(tmp_path / "admin", PASSPHRASE, server=server.base, scrypt_n=2**14)
    await admin.login(admin_u.username, f.PASSWORD, pyotp.TOTP(admin_seed).now())
    gid = await admin.create_group("Operation Command Line", coordinator_id=coord_u.id)
    await admin.aclose()
    coord, alice = User(server, tmp_path / "coord"), User(server, tmp_path / "alice")

    totp = pyotp.TOTP(coord_seed).now()
    logged = await coord.run("login", coord_u.username, stdin=f"{f.PASSWORD}\n{totp}\n")
    assert f"user {coord_u.id}" in logged.output
    await alice.run("login", alice_u.username, stdin=f"{f.PASSWORD}\n")
    assert alice_u.username in (await alice.run("whoami")).output
    await coord.run("group", "status", str(gid), "active")
    opened = await coord.run("group", "open-log", str(gid))
    code = re.search(r"fingerprint: ([\d ]+)\n", opened.output).group(1).strip()  # type: ignore[union-attr]
    assert "QR payload:" in opened.output
    invited = await coord.run("group", "invite", str(gid), "--for", alice_u.username)
    invitation = re.search(r"invitation: (\S+)", invited.output).group(1)  # type: ignore[union-attr]
    answered = await alice.run("group", "join", "--invitation", invitation)
    assert f"root of group {gid} verified against your invitation" in answered.output
    added = await coord.run("group", "add", str(gid), alice_u.username)
    assert "key bound by invitation" in added.output

    wrong = await alice.run("group", "join", str(gid), "--fingerprint", "00000 " * 12, ok=False)
    _clean_failure(wrong, "does not match the fingerprint")
    joined = await alice.run("group", "join", str(gid), "--fingerprint", code)
    assert code in joined.output
    assert code in (await alice.run("group", "fingerprint", str(gid))).output
    assert gid.hex[:6] in (await alice.run("groups")).output  # the prefix one can type

    sent = await coord.run("send", str(gid), "seizure at the port, 40 kg", "--urgent")
    seq = int(re.search(r"sent #(\d+)", sent.output).group(1))  # type: ignore[union-attr]
    received = json.loads((await alice.run("receive", "--json")).output)
    [item] = [i for i in received if i["text"] == "seizure at the port, 40 kg"]
    assert (item["sender_user_id"], item["verified"], item["urgent"], item["seq"]) == (
        str(coord_u.id),
        True,
        True,
        seq,
    )

    listener = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cordon_client.cli.main",
        "listen",
        "--max-items",
        "1",
        "--seconds",
        "60",
        "--json",
        env={**os.environ, **alice.env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    await coord.run("send", str(gid), "reply from the field", "--chat", "--reply-to", str(seq))
    try:
        out, _ = await asyncio.wait_for(listener.communicate(), 60)
    except TimeoutError:
        listener.kill()
        raise AssertionError("`cordon listen --max-items 1` did not finish within 60s") from None
    text = out.decode()
    assert listener.returncode == 0, text
    [live] = [json.loads(line) for line in text.splitlines() if '"reply from the field"' in line]
    assert live["verified"] and live["sender_user_id"] == str(coord_u.id)

    quiet = await alice.run("listen", "--seconds", "1")
    assert "reply from the field" not in quiet.output  # the listener's position is shared

    report = tmp_path / "weekly-newsletter.pdf"
    report.write_bytes(os.urandom(200_000))
    published = await coord.run(
        "library", "publish", str(gid), str(report), "--category", "newsletter"
    )
    doc = re.search(r"published ([0-9a-f-]{36}) version 1", published.output).group(1)  # type: ignore[union-attr]
    assert doc.replace("-", "")[:6] in (await alice.run("library", "ls", str(gid))).output
    assert "1" in (await alice.run("library", "versions", str(gid), doc)).output
    out_dir = tmp_path / "alice-downloads"
    out_dir.mkdir()
    got = await alice.run("library", "get", str(gid), doc, "--out", str(out_dir))
    assert "verified and saved" in got.output
    assert (out_dir / report.name).read_bytes() == report.read_bytes()


async def test_cli_refusals_are_one_clean_line(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """A wrong password, a wrong keystore passphrase and a missing login end with exit 1 and
    the reason, never a traceback."""
    u, _ = await f.user(session)
    user = User(server, tmp_path / "user")
    bad = await user.run("login", u.username, stdin="not the password\n", ok=False)
    _clean_failure(bad, "error: Wrong username or password [auth.invalid_credentials] (hint:")
    _clean_failure(await user.run("receive", ok=False), "cordon login")
    await user.run("login", u.username, stdin=f"{f.PASSWORD}\n")
    await user.run("lock")  # else the unlock file serves and no passphrase is asked for
    user.env["CORDON_PASSPHRASE"] = "wrong passphrase"
    _clean_failure(await user.run("groups", ok=False), "passphrase")
    user.env["CORDON_PASSPHRASE"] = PASSPHRASE
    missing = await user.run("group", "fingerprint", str(uuid.uuid4()), ok=False)
    _clean_failure(missing, "no trust root pinned")


async def test_cli_adds_a_member_by_safety_number_without_an_invitation(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """The fallback to an invitation, as the README types it: `cordon group add G USER
    --fingerprint NUMBER` for someone not yet in the group (by user id: a coordinator of
    another organisation cannot look their name up). A misheard number signs nothing
    and leaves them out of the group on the server too; the right one certifies their key."""
    admin_u, admin_seed = await f.user(session, admin=True, totp=True)
    coord_u, coord_seed = await f.user(session, totp=True)
    bob_u, _ = await f.user(session)
    admin = Cordon(tmp_path / "admin", PASSPHRASE, server=server.base, scrypt_n=2**14)
    await admin.login(admin_u.username, f.PASSWORD, pyotp.TOTP(admin_seed).now())
    gid = await admin.create_group("Operation Safety Number", coordinator_id=coord_u.id)
    await admin.aclose()
    coord, bob = User(server, tmp_path / "coord"), User(server, tmp_path / "bob")
    totp = pyotp.TOTP(coord_seed).now()
    await coord.run("login", coord_u.username, stdin=f"{f.PASSWORD}\n{totp}\n")
    await bob.run("login", bob_u.username, stdin=f"{f.PASSWORD}\n")
    opened = await coord.run("group", "open-log", str(gid))
    code = re.search(r"fingerprint: ([\d ]+)\n", opened.output).group(1).strip()  # type: ignore[union-attr]
    shown = (await bob.run("group", "member-fingerprint")).output
    number = re.search(r"safety number: ([\d ]+)\n", shown).group(1).strip()  # type: ignore[union-attr]

    misheard = number[:-1] + str((int(number[-1]) + 1) % 10)
    refused = await coord.run(
        "group", "add", str(gid), str(bob_u.id), "--fingerprint", misheard, ok=False
    )
    _clean_failure(refused, "does not match the fingerprint compared out of band")
    assert gid.hex[:6] not in (await bob.run("groups")).output  # taken back on the server

    added = await coord.run("group", "add", str(gid), str(bob_u.id), "--fingerprint", number)
    assert "key bound by fingerprint compared out of band" in added.output
    joined = await bob.run("group", "join", str(gid), "--fingerprint", code)
    assert code in joined.output
    members = (await coord.run("group", "members", str(gid))).output
    assert bob_u.username in members or (bob_u.display_name or "") in members
