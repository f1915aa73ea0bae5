"""Settings refuse the defaults that are only safe in development."""

import pytest
from pydantic import ValidationError

from app.core.config import Settings

STRONG = "a-real-random-production-secret-0123456789"


def _prod(**kw: object) -> Settings:
    values: dict[str, object] = {
        "environment": "production",
        "secret_key": STRONG,
        "seed_demo": False,
    }
    values.update(kw)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_production_accepts_explicit_settings():
    """A production config with its own secret and no demo is accepted."""
    assert _prod().environment == "production"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"secret_key": "insecure-development-secret-change-me"}, "CORDON_SECRET_KEY"),
        ({"seed_demo": True}, "CORDON_SEED_DEMO"),
        ({"allowed_origins": ["*"]}, "CORDON_ALLOWED_ORIGINS"),
        ({"secret_key": "short"}, "at least 32"),
    ],
)
def test_production_refuses_insecure_defaults(override: dict[str, object], message: str):
    """Each insecure default stops start-up with a message naming the variable."""
    with pytest.raises(ValidationError, match=message):
        _prod(**override)


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch):
    """CORDON_* variables configure the server."""
    monkeypatch.setenv("CORDON_ENVELOPE_MAX_BYTES", "4096")
    monkeypatch.setenv("CORDON_DATABASE_URL", "sqlite+aiosqlite:///x.db")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.envelope_max_bytes == 4096 and s.is_sqlite


def test_trusted_proxies_are_checked_at_start(monkeypatch: pytest.MonkeyPatch):
    """`CORDON_TRUSTED_PROXIES` is a JSON list of addresses or networks; anything else stops
    the server from starting instead of trusting nobody (or everybody) silently."""
    monkeypatch.setenv("CORDON_TRUSTED_PROXIES", '["10.0.0.0/8", "2001:db8::1"]')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert [str(n) for n in settings.trusted_networks] == ["10.0.0.0/8", "2001:db8::1/128"]
    monkeypatch.setenv("CORDON_TRUSTED_PROXIES", '["not-an-address"]')
    with pytest.raises(ValueError, match="not-an-address"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.delenv("CORDON_TRUSTED_PROXIES")
    assert Settings(_env_file=None).trusted_networks == ()  # type: ignore[call-arg]
