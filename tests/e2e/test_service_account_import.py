"""The nightly CSV import of docs/operations.md, run exactly as the document shows it: each
`cordon` command and the crontab line are read out of the document, its example server,
paths and group replaced by this test's, and run as the installed executable in its own
process (the cron line through `/bin/sh`, as cron runs it), global options on the command
line, no `CORDON_*` variable in the environment. A member then sees the imported cases from
the service account, marked as one; after revocation the same line fails in one line."""

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cordon_client._client import Cordon
from cordon_client.account.unlock import unlock_path
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.e2e.joining import PASSPHRASE, admit, opened_group
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DOC_GROUP = "5f0c8a2e-3b1d-4c6e-9a7f-2d4b6e8f0a1c"
CSV = (
    "case_ref,reporting_country,handling_code,source_reliability,information_accuracy,"
    "seizure_date,place_type,direction,departure_country,destination_country,"
    "transport_mode,category,hs_code,quantity,unit\n"
    "A,BE,H1,B,2,2021-05-04,airport,import,IN,BE,air,medicines,3004,100,PCE\n"
    "A,BE,H1,B,2,2021-05-04,airport,import,IN,BE,air,ppe,6307.90,5000,PCE\n"
    "B,BE,H1,B,2,2021-05-04,airport,import,IN,BE,air,medicines,3004,10,PCE\n"
)


def _documented() -> tuple[list[str], str]:
    """The `cordon` commands of the nightly-import section, in order, and its cron line."""
    text = (ROOT / "docs" / "operations.md").read_text()
    section = text.split("### A nightly CSV import", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^cordon .+$", section, flags=re.MULTILINE)
    cron = re.search(r"```crontab\n(.+)\n```", section)
    assert cron is not None and len(commands) == 4, section
    return commands, cron.group(1)


class Machine:
    """This test's stand-ins for the document's server, files and directories."""

    def __init__(self, server: Server, tmp: Path, group_id: str) -> None:
        self.tmp = tmp
        self.home = tmp / "home"  # $HOME: the NCP's ~/.cordon lives here
        self.home.mkdir()
        self.swaps = {
            "https://cordon.example": server.base,
            "/var/lib/cordon/be-import": str(tmp / "var-lib-cordon-be-import"),
            "/etc/cordon/be-import.credential": str(tmp / "etc" / "be-import.credential"),
            "/srv/exports/seizures.csv": str(tmp / "seizures.csv"),
            "/var/log/cordon/be-import.log": str(tmp / "be-import.log"),
            DOC_GROUP: group_id,
        }

    def adapt(self, line: str, **more: str) -> str:
        for documented, here in {**self.swaps, **more}.items():
            line = line.replace(documented, here)
        return line

    def run(self, line: str, *, cwd: Path | None = None, ok: bool = True) -> str:
        """One command line through /bin/sh, as a shell or cron would run it."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CORDON_")} | {
            "HOME": str(self.home),
            "PATH": f"{BIN}:/usr/bin:/bin",
            "CORDON_PASSPHRASE": PASSPHRASE,  # for the people's keystores only
            "COLUMNS": "200",
        }
        done = subprocess.run(
            ["/bin/sh", "-c", line],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd or self.tmp,
            timeout=180,
            start_new_session=True,
        )
        log = Path(self.swaps["/var/log/cordon/be-import.log"])
        logged = log.read_text() if log.exists() else ""
        assert (done.returncode == 0) == ok, (
            line,
            done.returncode,
            done.stdout,
            done.stderr,
            logged,
        )
        return done.stdout + done.stderr


async def test_the_documented_nightly_import_runs_as_written(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """Create, register, join, import by cron line; a member sees the cases from the
    service account; revoked, the cron line fails with one line and exit 1."""
    org = await f.organisation(session, name="Belgian Customs")
    ncp_u, _ = await f.user(session, org=org, ncp=True)
    admin = await f.user(session, admin=True, totp=True)
    coord_u, coord_seed = await f.user(session, totp=True)
    jane_u, _ = await f.user(session)
    gid, code = await opened_group(
        server.base, tmp_path, admin, (coord_u, coord_seed), "Operation Nightly"
    )
    m = Machine(server, tmp_path, str(gid))
    async with (
        Cordon(tmp_path / "coord", PASSPHRASE, server=server.base) as coord,
        Cordon(tmp_path / "jane", PASSPHRASE, server=server.base, scrypt_n=2**14) as jane,
        Cordon(m.home / ".cordon", PASSPHRASE, server=server.base, scrypt_n=2**14) as ncp,
    ):
        await jane.login(jane_u.username, f.PASSWORD)
        await admit(coord, jane, gid, jane_u.username)
        await jane.join_group(gid, expected_fingerprint=code)
        await ncp.login(ncp_u.username, f.PASSWORD)
    commands, cron = _documented()
    coordinator = f"cordon --home {tmp_path / 'coord'}"

    def nightly() -> None:
        created = m.run(m.adapt(commands[0]))
        assert "cdn_sa_" not in created, created  # written to the file, never printed
        credential = tmp_path / "be-import.credential"
        assert credential.stat().st_mode & 0o077 == 0
        (tmp_path / "etc").mkdir()
        shutil.copy(credential, m.swaps["/etc/cordon/be-import.credential"])
        m.run(m.adapt(commands[1]))
        shown = m.run(f"{coordinator} group invite {gid} --for be-import")
        invitation = re.search(r"cordon-invite:\S+", shown)
        assert invitation is not None, shown
        m.run(m.adapt(commands[2], **{"cordon-invite:2:…": invitation.group(0)}))
        assert "be-import" in m.run(f"{coordinator} group admit {gid}")
        m.run(m.adapt(commands[3]))

        (tmp_path / "seizures.csv").write_text(CSV)
        m.run(m.adapt(cron.split(" ", 5)[5]))
        assert "imported 2 case(s)" in (tmp_path / "be-import.log").read_text()
        state = Path(m.swaps["/var/lib/cordon/be-import"])
        assert not unlock_path(state).exists(), "a credential keystore keeps no unlock file"
        assert unlock_path(m.home / ".cordon").exists()  # the NCP's, typed with a passphrase

        cases = m.run(f"cordon --home {tmp_path / 'jane'} cases list {gid}")
        assert cases.count("BE nightly import (service account, Belgian Customs, BE)") == 2, cases
        members = m.run(f"cordon --home {tmp_path / 'jane'} group members {gid}")
        assert re.search(r"BE nightly import\s+be-import\s+member service account", members)
        assert members.count("service account") == 1, members  # the officers are not marked
        listed = m.run(f"cordon --home {tmp_path / 'jane'} group members {gid} --json")
        kinds = {row["username"]: row["is_service"] for row in json.loads(listed)}
        assert kinds == {coord_u.username: False, jane_u.username: False, "be-import": True}

        listed = m.run("cordon service-account list")
        assert re.search(r"be-import\W+cases\.post\W+1\W+\S+ \S+\W+active", listed), listed
        again = m.run(m.adapt(commands[0]), ok=False)
        assert "be-import.credential exists" in again and again.count("\n") == 1, again
        typo = m.run(m.adapt(commands[0]).replace("cases.post", "cases.delete"), ok=False)
        assert "--operation cases.delete: not one of cases.post" in typo, typo

        m.run("cordon service-account revoke be-import")
        assert re.search(r"be-import\W.*revoked", m.run("cordon service-account list"))
        m.run(m.adapt(cron.split(" ", 5)[5]), ok=False)
        refused = (tmp_path / "be-import.log").read_text().strip().splitlines()[-1]
        assert "service_account.invalid_credential" in refused, refused

    await asyncio.to_thread(nightly)
