"""Dependencies of the messages routes: the reading device, the posting gate, the committer."""

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from app import realtime
from app.auth.dependencies import CurrentPrincipal
from app.core.deps import SessionDep, SettingsDep
from app.groups.dependencies import GroupPoster
from app.groups.exceptions import GroupReadOnly
from app.groups.models import GroupStatus
from app.groups.service import GroupAccess
from app.messages import envelopes, service
from app.messages.batching import Committer
from app.messages.exceptions import EnvelopeTooLarge
from app.messages.schemas import MessageCreate


async def current_viewer(session: SessionDep, principal: CurrentPrincipal) -> realtime.Viewer:
    """The calling device as a reader of group streams."""
    return await service.viewer_for(
        session, user_id=principal.user.id, device_id=principal.device.id
    )


async def get_committer(conn: HTTPConnection) -> Committer:
    """The app's group-commit worker (async: no thread-pool hop per post)."""
    committer: Committer = conn.app.state.committer
    return committer


async def valid_post(
    message_in: MessageCreate,
    access: GroupPoster,
    principal: CurrentPrincipal,
    settings: SettingsDep,
) -> MessageCreate:
    """A poster's message to a writable group: within the size limit, and an envelope signed
    by the posting device that agrees with the routing metadata."""
    if access.group.status == GroupStatus.ARCHIVED:
        raise GroupReadOnly("The group is archived and read-only.")
    if len(message_in.envelope) > settings.envelope_max_bytes:
        raise EnvelopeTooLarge(f"Envelopes are limited to {settings.envelope_max_bytes} bytes.")
    envelopes.check(message_in, group_id=access.group.id, device=principal.device)
    return message_in


CurrentViewer = Annotated[realtime.Viewer, Depends(current_viewer)]
CommitterDep = Annotated[Committer, Depends(get_committer)]
ValidPost = Annotated[MessageCreate, Depends(valid_post)]
PosterAccess = GroupPoster
__all__ = ["CommitterDep", "CurrentViewer", "GroupAccess", "PosterAccess", "ValidPost"]
