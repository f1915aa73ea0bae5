"""Migrations are the only source of the schema: they apply, match the models, and revert."""

import asyncio
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

import app.models  # noqa: F401
from app.core.db import Base, create_engine
from app.core.migrate import downgrade, upgrade
from tests.databases import temporary_database


def _state(url: str) -> tuple[set[str], list[object]]:
    """Tables present and differences between the live schema and the models."""

    def inspect_sync(conn: Connection) -> tuple[set[str], list[object]]:
        tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        return tables, diff

    async def run() -> tuple[set[str], list[object]]:
        engine = create_engine(url)
        async with engine.connect() as conn:
            result = await conn.run_sync(inspect_sync)
        await engine.dispose()
        return result

    return asyncio.run(run())


def test_upgrade_downgrade_upgrade(tmp_path: Path):
    """Head matches the models exactly; base removes every table; upgrading again works."""
    with temporary_database(tmp_path) as url:
        upgrade(url)
        tables, diff = _state(url)
        assert tables == set(Base.metadata.tables)
        assert diff == []
        downgrade(url, "base")
        assert _state(url)[0] == set()
        upgrade(url)
        assert _state(url)[0] == set(Base.metadata.tables)
