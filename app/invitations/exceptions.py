"""Invitation and join-request errors.

Tree::

    InvalidInput -> MalformedInvitation     invitation.malformed
    NotFound     -> InvitationNotFound      invitation.not_found
    Conflict     -> InvitationExists        invitation.exists
    Conflict     -> InvitationUsed          invitation.used
    Conflict     -> LogNotOpened            invitation.log_not_opened
"""

from app.core.errors import Conflict, InvalidInput, NotFound


class MalformedInvitation(InvalidInput):
    code, title = "invitation.malformed", "Malformed invitation id, member key or MAC"


class InvitationNotFound(NotFound):
    code, title = "invitation.not_found", "No such open invitation in this group"


class InvitationExists(Conflict):
    code, title = "invitation.exists", "That invitation id is already registered"


class InvitationUsed(Conflict):
    code, title = "invitation.used", "Another user already answered this invitation"


class LogNotOpened(Conflict):
    code, title = "invitation.log_not_opened", "The group's signed log has not been opened yet"
