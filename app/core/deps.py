"""Dependency aliases every domain shares: settings and the request's database session."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from app.core.config import Settings
from app.core.db import session_scope


async def get_app_settings(conn: HTTPConnection) -> Settings:
    """The settings this app instance was built with (tests build their own). Async so that
    FastAPI calls it inline instead of hopping to its thread pool on every request."""
    settings: Settings = conn.app.state.settings
    return settings


async def get_session(conn: HTTPConnection) -> AsyncIterator[AsyncSession]:
    """A session for this request, rolled back unless the service committed."""
    async for session in session_scope(conn.app.state.sessionmaker):
        yield session


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
