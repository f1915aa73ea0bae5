"""The admin CLI bootstraps a platform from an empty database, as an operator would."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.core.config import get_settings

runner = CliRunner()


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


def test_seed_demo_once(cli_env: None):
    """The demo seeds an empty database and leaves a non-empty one alone."""
    _ok("migrate")
    first = _ok("seed-demo")
    assert "ocu.coordinator" in first and "europol.observer" in first
    assert "not seeded" in _ok("seed-demo")
    assert re.fullmatch(r"\d{6}\s*", _ok("demo-totp"))
