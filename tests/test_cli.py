"""The admin CLI bootstraps a platform from an empty database, as an operator would."""

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.core.config import get_settings

runner = CliRunner()
SEEDED_WITH_TOTP = "SELECT username FROM user_account WHERE totp_enabled"


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CORDON_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("CORDON_SEED_DEMO", "true")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_bootstrap_org_user_group(cli_env: None):
    """Migrate, register an organisation, create an admin with a code, refuse bad input."""
    _ok("migrate")
    assert re.search(
        r"organisation [0-9a-f-]{36}",
        _ok("create-org", "WCO Secretariat", "--country", "BE", "--region", "EUR"),
    )
    out = _ok(
        "create-user",
        "first.admin",
        "--organisation",
        "WCO Secretariat",
        "--display-name",
        "First Admin",
        "--admin",
    )
    assert re.search(r"enrolment code \(shown once\): enrol_\S+", out)
    again = _ok("enrolment-code", "first.admin")
    assert re.search(r"enrol_\S+", again)
    dup = runner.invoke(
        app, ["create-org", "wco secretariat", "--country", "BE", "--region", "EUR"]
    )
    assert dup.exit_code == 1 and "organisation.name_taken" in dup.output
    bad = runner.invoke(app, ["create-org", "Nowhere", "--country", "XX", "--region", "EUR"])
    assert bad.exit_code != 0 and "XX" in bad.output
    no_totp = runner.invoke(app, ["create-group", "Op Y", "--coordinator", "first.admin"])
    assert no_totp.exit_code == 1 and "group.coordinator_needs_totp" in no_totp.output


def test_seed_demo_once(cli_env: None, tmp_path: Path):
    """The demo seeds an empty database and leaves a non-empty one alone."""
    _ok("migrate")
    first = _ok("seed-demo")
    assert "ocu.coordinator" in first and "europol.observer" in first
    assert "not seeded" in _ok("seed-demo")
    codes = dict(line.split(": ") for line in _ok("demo-totp").splitlines())
    assert set(codes) == {"admin", "ocu.coordinator"}  # each code names its account
    with closing(sqlite3.connect(tmp_path / "cli.db")) as db:
        seeded = {name for (name,) in db.execute(SEEDED_WITH_TOTP)}
    assert set(codes) == seeded  # the seeded ones, no other
    assert all(re.fullmatch(r"\d{6}", code) for code in codes.values())


def _server_script(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed `cordon-server` script as an operator types it."""
    script = str(Path(sys.executable).with_name("cordon-server"))
    return subprocess.run(
        [script, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def test_production_misconfiguration_is_one_line_with_a_hint(tmp_path: Path):
    """`cordon-server serve` in production without a secret: one line on stderr, exit 1;
    `--debug` shows the traceback instead."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORDON_")} | {
        "CORDON_ENVIRONMENT": "production",
        "CORDON_SEED_DEMO": "false",
        "CORDON_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'prod.db'}",
    }
    done = _server_script("serve", "--port", "8271", env=env, cwd=tmp_path)
    assert done.returncode == 1, done
    [line] = done.stderr.splitlines()
    assert "CORDON_SECRET_KEY must be set to a random value in production" in line
    assert "hint:" in line and "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "prod.db").exists()  # refused before touching the database

    debug = _server_script("--debug", "serve", "--port", "8271", env=env, cwd=tmp_path)
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr


def test_service_account_create_list_revoke(cli_env: None):
    """The operator creates a scoped service account (credential shown once), sees it
    listed, revokes it; a wrong group, operation or name is one line and exit 1 or 2."""
    _ok("migrate")
    _ok("seed-demo")
    create = ["service-account", "create", "be.import", "--organisation", "Belgian Customs"]
    out = _ok(*create, "--group", "Operation STOP III (demo)", "--operation", "cases.post")
    assert re.search(r"credential \(shown once\): cdn_sa_\S{40,}", out)
    missing = runner.invoke(app, [*create, "--group", "No Such Op", "--operation", "cases.post"])
    assert missing.exit_code == 1 and "group.not_found" in missing.output
    bad = runner.invoke(app, [*create, "--group", "x", "--operation", "cases.delete"])
    assert bad.exit_code == 2 and "cases.delete" in bad.output  # typer's own usage error
    invalid = runner.invoke(
        app,
        [
            "service-account",
            "create",
            "Bad Name!",
            "--organisation",
            "Belgian Customs",
            "--group",
            "Operation STOP III (demo)",
            "--operation",
            "cases.post",
        ],
    )
    assert invalid.exit_code == 1 and invalid.stdout == "", invalid.output
    [line] = invalid.stderr.splitlines()  # one line on stderr naming the field, like any refusal
    assert line.startswith("error: invalid username:"), line
    assert re.search(r"be\.import\s+.*cases\.post\s+.*active", _ok("service-account", "list"))
    assert "revoked be.import" in _ok("service-account", "revoke", "be.import")
    assert re.search(r"be\.import\s+.*revoked", _ok("service-account", "list"))
    person = runner.invoke(app, ["service-account", "revoke", "ocu.coordinator"])
    assert person.exit_code == 1 and "service_account.not_found" in person.output
