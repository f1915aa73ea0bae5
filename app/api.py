"""Mounts every domain router under `/api/v1` (the stream socket `/api/v1/ws` is served
beside them: `app.main.CordonApp`)."""

from fastapi import APIRouter

from app.auth.router import router as auth_router
from app.devices.router import router as devices_router
from app.groups.router import router as groups_router
from app.invitations.router import router as invitations_router
from app.keys.router import group_router as keys_group_router
from app.keys.router import router as keys_router
from app.library.router import group_router as library_group_router
from app.library.router import upload_router as library_upload_router
from app.messages.router import router as messages_router
from app.organisations.router import router as organisations_router
from app.prenotifications.router import router as prenotifications_router
from app.service_accounts.router import router as service_accounts_router
from app.templates.router import router as templates_router
from app.users.router import router as users_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(auth_router, prefix="/auth", tags=["auth"])
api_router.include_router(organisations_router, prefix="/organisations", tags=["organisations"])
api_router.include_router(users_router, prefix="/users", tags=["users"])
api_router.include_router(
    service_accounts_router, prefix="/service-accounts", tags=["service accounts"]
)
api_router.include_router(devices_router, prefix="/devices", tags=["devices"])
api_router.include_router(groups_router, prefix="/groups", tags=["groups"])
api_router.include_router(keys_router, prefix="/devices/me", tags=["keys"])
api_router.include_router(keys_group_router, prefix="/groups", tags=["keys"])
api_router.include_router(invitations_router, prefix="/groups", tags=["invitations"])
api_router.include_router(library_group_router, prefix="/groups", tags=["library"])
api_router.include_router(library_upload_router, prefix="/library", tags=["library"])
api_router.include_router(messages_router, tags=["messages"])
api_router.include_router(templates_router, prefix="/groups", tags=["templates"])
api_router.include_router(prenotifications_router, prefix="/groups", tags=["prenotifications"])
