"""Readiness: the database answers and its schema is at the newest migration."""

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

ROOT = Path(__file__).resolve().parents[2]


def head_revisions() -> set[str]:
    """The migration heads shipped with this build."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return set(ScriptDirectory.from_config(config).get_heads())


async def current_revisions(session: AsyncSession) -> set[str]:
    """What the database says it has applied (empty if it was never migrated)."""
    try:
        rows = await session.execute(text("SELECT version_num FROM alembic_version"))
    except Exception:  # a missing table means an unmigrated database, not a crash
        await session.rollback()
        return set()
    return {row[0] for row in rows}
