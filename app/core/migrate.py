"""Run Alembic programmatically, so `serve`, the Dockerfile and tests share one code path."""

from alembic import command
from alembic.config import Config

from app.health.service import ROOT


def alembic_config(database_url: str) -> Config:
    """An Alembic config for this checkout that targets `database_url`."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Apply migrations up to `revision` (blocking; call from a thread inside an event loop)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Revert migrations down to `revision`."""
    command.downgrade(alembic_config(database_url), revision)
