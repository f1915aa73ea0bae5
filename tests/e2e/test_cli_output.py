"""`cordon` output as a person reads it, typed as a person types it (issue 12 items 2-4, 12, 14).

The installed `cordon` executable runs in its own process against a real server, with
`--server` / `--home` on the command line and no CORDON_HOME / CORDON_SERVER; groups are
typed by name or id prefix, members by username. Output is checked at 80 columns (no line
wider, full names shown), under NO_COLOR (no escape codes) and as JSON.
"""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cordon_client import prenotifications as pn_ops
from cordon_client._client import Cordon
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.e2e.joining import PASSPHRASE, opened_group
from tests.e2e.server import Server
from tests.templates import samples

pytestmark = pytest.mark.e2e
CORDON = str(Path(sys.executable).with_name("cordon"))
COORDINATOR = "Maria-Fernanda Rodríguez Villanueva"
MEMBER = "Jean-Baptiste Vandenberghe-Lefèvre"
ANSI = re.compile(r"\x1b\[")


def _env(fake_home: Path, **extra: str) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith("CORDON_")}
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS"):
        base.pop(name, None)
    return base | {"HOME": str(fake_home), "CORDON_PASSPHRASE": PASSPHRASE} | extra


def _cordon(
    fake_home: Path, *args: str, stdin: str = "", columns: int = 80, **env: str
) -> subprocess.CompletedProcess[str]:
    """`cordon ARGS` in its own process, no terminal, COLUMNS as given."""
    return subprocess.run(
        [CORDON, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(fake_home, COLUMNS=str(columns), **env),
        timeout=120,
        start_new_session=True,
    )


def _ok(fake_home: Path, *args: str, **kw: object) -> str:
    done = _cordon(fake_home, *args, **kw)  # type: ignore[arg-type]
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def _fits(text: str, columns: int) -> None:
    wide = [line for line in text.splitlines() if len(line) > columns]
    assert not wide, f"lines wider than {columns}: {wide}"


async def test_members_receive_listen_receipts_read_at_80_columns(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """A lone coordinator broadcasts; a member added by username then reads alerts with
    names and organisations at 80 columns; the coordinator sees its own item as sent by
    you and who received and read it; prefixes, names and --json work as typed."""
    admin = await f.user(session, admin=True, totp=True)
    coord_org = await f.organisation(session, "Dirección General de Aduanas", country="ES")
    member_org = await f.organisation(session, "Administration générale des douanes", "BE")
    coord_u, coord_seed = await f.user(session, org=coord_org, totp=True)
    jane_u, _ = await f.user(session, org=member_org)
    outsider_u, _ = await f.user(session, org=coord_org)  # a colleague, in no group yet
    coord_u.display_name, jane_u.display_name = COORDINATOR, MEMBER
    await session.commit()
    coord_home, jane_home, fake_home = tmp_path / "coord", tmp_path / "jane", tmp_path / "home"
    fake_home.mkdir()
    gid, _ = await opened_group(
        server.base, tmp_path, admin, (coord_u, coord_seed), "Operation Output"
    )
    c = ("--server", server.base, "--home", str(coord_home))
    j = ("--server", server.base, "--home", str(jane_home))
    prefix = gid.hex[:8]
    body = "Container MSCU1234567 flagged at Antwerp berth 869; " * 20

    def flow() -> dict[str, str]:
        shown: dict[str, str] = {}
        # item 14: the coordinator is alone in the group and can still broadcast
        assert "sent #" in _ok(fake_home, *c, "send", "Operation Output", "Before anyone joined")
        invited = _ok(fake_home, *c, "group", "invite", prefix, "--for", jane_u.username)
        invitation = re.search(r"cordon-invite:\S+", invited)
        assert invitation is not None, invited
        _ok(fake_home, *j, "login", jane_u.username, stdin=f"{f.PASSWORD}\n")
        _ok(fake_home, *j, "group", "join", "--invitation", invitation.group(0))
        added = _ok(fake_home, *c, "group", "add", prefix, jane_u.username)
        assert "added" in added, added
        # a username outside the group is found in the user directory the server shows the
        # coordinator (her organisation): refused for having no device in the group, not as
        # an unknown name
        outside = _cordon(fake_home, *c, "send", prefix, "x", "--to", outsider_u.username)
        assert outside.returncode == 1 and "no user matches" not in outside.stderr, outside
        assert "none of the recipients has a certified device" in outside.stderr, outside
        _ok(fake_home, *j, "group", "join", "operation output")  # the name, case-folded
        shown["members"] = _ok(fake_home, *c, "group", "members", prefix)
        shown["members_json"] = _ok(fake_home, *c, "group", "members", prefix, "--json")
        sent = _ok(fake_home, *c, "send", prefix, body, "--urgent")
        shown["seq"] = re.search(r"sent #(\d+)", sent).group(1)  # type: ignore[union-attr]
        shown["receive"] = _ok(fake_home, *j, "receive")
        shown["coord_receive"] = _ok(fake_home, *c, "receive", columns=200)
        shown["receipts"] = _ok(fake_home, *c, "receipts", prefix, shown["seq"])
        shown["receipts_json"] = _ok(fake_home, *c, "receipts", prefix, shown["seq"], "--json")
        listener = subprocess.Popen(  # as the README types it: `cordon listen`, Ctrl-C to stop
            [CORDON, *j, "listen"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(fake_home, COLUMNS="80"),
            start_new_session=True,
        )
        # no wait for it to connect: it resumes from the stored cursor, so an item sent
        # before its socket opens is delivered by catch-up, one sent after it live
        second = _ok(fake_home, *c, "send", prefix, "Second alert: " + body[:300])
        seq = re.search(r"sent #(\d+)", second).group(1)  # type: ignore[union-attr]
        deadline = time.monotonic() + 120
        while listener.poll() is None and time.monotonic() < deadline:  # shown = marked read
            read = json.loads(_ok(fake_home, *c, "receipts", prefix, seq, "--json"))
            if read and read[0]["read_at"]:
                break
        listener.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            out, err = listener.communicate(timeout=30)
        finally:  # a listener that ignored Ctrl-C must not outlive the test (nor its pipes)
            if listener.poll() is None:
                listener.kill()
                listener.communicate()
        assert listener.returncode == 0, (out, err)
        assert "Traceback" not in err, err
        shown["listen"] = out
        shown["groups_json"] = _ok(fake_home, *j, "groups", "--json")
        shown["plain"] = _ok(
            fake_home, *c, "group", "members", prefix, NO_COLOR="1", FORCE_COLOR="1", TERM="xterm"
        )
        shown["coloured"] = _ok(
            fake_home, *c, "group", "members", prefix, FORCE_COLOR="1", TERM="xterm"
        )
        unknown = _cordon(fake_home, *c, "group", "members", "ffffffff")
        shown["unknown"] = unknown.stdout + unknown.stderr
        assert unknown.returncode == 1
        return shown

    shown = await asyncio.to_thread(flow)

    async with Cordon(coord_home, PASSPHRASE, server=server.base) as sender:
        await pn_ops.send_prenotification(
            sender, gid, samples.prenotification(), destination=[jane_u.id]
        )

    def prenotification_by_seq() -> None:
        listed = json.loads(_ok(fake_home, *j, "prenotifications", "list", prefix, "--json"))
        seq = str(listed[0]["meta"]["seq"])
        acked = _ok(fake_home, *j, "prenotifications", "ack", "Operation Output", seq)
        assert "acknowledged" in acked, acked
        assert _ok(fake_home, *j, "cases", "list", "Operation Output", "--json").strip() == "[]"
        assert json.loads(_ok(fake_home, *j, "library", "ls", prefix, "--json")) == []
        table = _ok(fake_home, *j, "groups")
        _fits(table, 80)
        assert prefix[:6] in table and "Operation Output" in table
        removed = _ok(fake_home, *c, "group", "remove", prefix, jane_u.username)
        assert f"removed {jane_u.username} ({jane_u.id})" in removed, removed
        left = json.loads(_ok(fake_home, *c, "group", "members", prefix, "--json"))
        assert [m["username"] for m in left] == [coord_u.username]

    await asyncio.to_thread(prenotification_by_seq)

    _fits(shown["members"], 80)
    assert MEMBER in shown["members"] and COORDINATOR in shown["members"], shown["members"]
    assert "Administration générale des douanes, BE" in shown["members"]
    listed = {m["username"]: m for m in json.loads(shown["members_json"])}
    assert listed[jane_u.username]["user_id"] == str(jane_u.id)
    assert listed[jane_u.username]["certified"] and len(listed[jane_u.username]["devices"]) == 1

    received = shown["receive"]
    _fits(received, 80)
    assert COORDINATOR in received and "Dirección General de Aduanas" in received, received
    assert "URGENT" in received and "Container MSCU1234567" in received
    assert "NOT VERIFIED" not in received
    assert len(received.splitlines()) < 20  # a 1,000-character alert is cut, not 15 lines
    assert re.search(rf"{MEMBER} \(.*\)\s+joined as member", received), received

    own = shown["coord_receive"]
    assert "NOT VERIFIED" not in own, own
    assert f"#{shown['seq']}" in own and " you" in own and "Container MSCU1234567" in own

    assert MEMBER in shown["receipts"] and "read" in shown["receipts"], shown["receipts"]
    # the one other member received it; the sender is never listed as waiting for her own item
    assert "not received yet" not in shown["receipts"], shown["receipts"]
    rows = json.loads(shown["receipts_json"])
    assert [r["user_id"] for r in rows] == [str(jane_u.id)] and rows[0]["read_at"]

    _fits(shown["listen"], 80)
    assert COORDINATOR in shown["listen"] and "Second alert" in shown["listen"]
    assert [g["id"] for g in json.loads(shown["groups_json"])] == [str(gid)]

    assert not ANSI.search(shown["plain"]) and MEMBER in shown["plain"]
    assert ANSI.search(shown["coloured"])  # the same command does colour without NO_COLOR
    assert "no group matches 'ffffffff'" in shown["unknown"]
    assert len(shown["unknown"].strip().splitlines()) == 1
