"""`/healthz` says the process is alive; `/readyz` says it can serve."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.core.deps import SessionDep
from app.core.routing import CordonRoute
from app.health import service

router = APIRouter(route_class=CordonRoute)
_HEADS = service.head_revisions()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up; says nothing about its dependencies."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(session: SessionDep) -> JSONResponse:
    """The database is reachable and migrated to head; 503 otherwise."""
    try:
        await session.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    applied = await service.current_revisions(session)
    if applied != _HEADS:
        return JSONResponse(
            {"status": "unavailable", "database": "ok", "migrations": "behind"}, 503
        )
    return JSONResponse({"status": "ok", "database": "ok", "migrations": "head"})
