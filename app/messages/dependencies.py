"""Dependencies of the messages routes: the reading device, the posting gate, the group
commits."""

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from app import realtime
from app.auth.dependencies import CurrentPrincipal
from app.core.config import Settings
from app.core.deps import SessionDep, SettingsDep
from app.core.routing import raises
from app.devices.models import Device
from app.groups.dependencies import GroupPoster, check_status
from app.groups.exceptions import GroupReadOnly
from app.groups.service import GroupAccess
from app.groups.status import GroupWrite
from app.library import keying as library_keying
from app.messages import envelopes, service
from app.messages.batching import Committer
from app.messages.exceptions import EnvelopeTooLarge, InvalidEnvelope, KindNotPostable
from app.messages.models import MessageKind
from app.messages.receipts import ReceiptCommitter
from app.messages.schemas import MessageCreate
from app.service_accounts import scopes
from app.service_accounts.exceptions import OutOfScope


async def current_viewer(session: SessionDep, principal: CurrentPrincipal) -> realtime.Viewer:
    """The calling device as a reader of group streams."""
    return await service.viewer_for(
        session, user_id=principal.user.id, device_id=principal.device.id
    )


async def get_committer(conn: HTTPConnection) -> Committer:
    """The app's group-commit worker (async: no thread-pool hop per post)."""
    committer: Committer = conn.app.state.committer
    return committer


async def get_receipt_committer(conn: HTTPConnection) -> ReceiptCommitter:
    """The app's group-commit worker for receipts."""
    receipts: ReceiptCommitter = conn.app.state.receipts
    return receipts


@raises(GroupReadOnly)
async def writable_group(access: GroupPoster) -> GroupAccess:
    """A group that takes the poster's content (`GroupPoster` checks it; the plain-ASGI post
    in `app.messages.posting` calls this after `check_role`, so it checks again)."""
    check_status(access, GroupWrite.CONTENT)
    return access


WritableGroup = Annotated[GroupAccess, Depends(writable_group)]


def check_post(
    message_in: MessageCreate, *, access: GroupAccess, device: Device, settings: Settings
) -> None:
    """Within the size limit, and an envelope signed by the posting device that agrees with
    the routing metadata (raises the message's problem otherwise); for a service account,
    a kind its operations may post."""
    scopes.check_kind(access.operations, kind=message_in.kind)
    if len(message_in.envelope) > settings.envelope_max_bytes:
        raise EnvelopeTooLarge(f"Envelopes are limited to {settings.envelope_max_bytes} bytes.")
    envelopes.check(message_in, group_id=access.group.id, device=device)
    if message_in.kind == MessageKind.LIBRARY:
        library_keying.ensure_may_key(access)


@raises(EnvelopeTooLarge, InvalidEnvelope, KindNotPostable, OutOfScope)
async def valid_post(
    message_in: MessageCreate,
    access: WritableGroup,
    principal: CurrentPrincipal,
    settings: SettingsDep,
) -> MessageCreate:
    """A poster's message to a writable group that passes `check_post`."""
    check_post(message_in, access=access, device=principal.device, settings=settings)
    return message_in


CurrentViewer = Annotated[realtime.Viewer, Depends(current_viewer)]
CommitterDep = Annotated[Committer, Depends(get_committer)]
ReceiptsDep = Annotated[ReceiptCommitter, Depends(get_receipt_committer)]
ValidPost = Annotated[MessageCreate, Depends(valid_post)]
__all__ = ["CommitterDep", "CurrentViewer", "ReceiptsDep", "ValidPost", "WritableGroup"]
