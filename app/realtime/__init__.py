"""Realtime push. Domains call `publish(session, event)` inside their transaction; the events
go out only once that transaction commits (synapse's store → notify order), and are dropped if
it rolls back, so a pushed item is always readable. This package imports no domain."""

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from app.realtime.events import Event, ItemPublished, Kick, Refresh
from app.realtime.fanout import Fanout
from app.realtime.hub import Routing, Viewer, can_read, delivers

PENDING_KEY = "cordon.realtime.pending"
FANOUT_KEY = "cordon.realtime.fanout"

__all__ = [
    "Event",
    "Fanout",
    "ItemPublished",
    "Kick",
    "Refresh",
    "Routing",
    "Viewer",
    "bind_sessions",
    "can_read",
    "delivers",
    "publish",
]


def publish(session: AsyncSession | Session, *events: Event) -> None:
    """Queue events to be pushed after this session's next commit (and never on rollback)."""
    pending: list[Event] = session.info.setdefault(PENDING_KEY, [])
    pending.extend(events)


def bind_sessions(sessionmaker: async_sessionmaker[AsyncSession], fanout: Fanout) -> None:
    """Make every session of this app hand its committed events to `fanout`."""
    info: dict[str, Any] = sessionmaker.kw.setdefault("info", {})
    info[FANOUT_KEY] = fanout


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    events: list[Event] | None = session.info.pop(PENDING_KEY, None)
    fanout: Fanout | None = session.info.get(FANOUT_KEY)
    if events and fanout is not None:
        for event in events:
            fanout.publish(event)


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
