"""User and enrolment errors.

Tree::

    NotFound     -> UserNotFound            user.not_found
    Conflict     -> UsernameTaken           user.username_taken
    Forbidden    -> UserManagementDenied    user.management_denied
    Forbidden    -> SelfManagementDenied    user.self_management
    Conflict     -> LastAdministrator       user.last_administrator
    InvalidInput -> InvalidEnrolmentCode    enrolment.invalid_code
    InvalidInput -> EnrolmentTotpRequired   enrolment.totp_required
"""

from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound


class UserNotFound(NotFound):
    code, title = "user.not_found", "User not found"


class UsernameTaken(Conflict):
    code, title = "user.username_taken", "Username already taken"


class UserManagementDenied(Forbidden):
    code, title = (
        "user.management_denied",
        "Only an administrator, or the organisation's NCP for its other users, may",
    )


class SelfManagementDenied(Forbidden):
    code, title = (
        "user.self_management",
        "An account cannot issue its own enrolment code, disable or re-enable itself",
    )


class LastAdministrator(Conflict):
    code, title = "user.last_administrator", "The last enabled administrator cannot be disabled"


class InvalidEnrolmentCode(InvalidInput):
    status = 400
    code, title = "enrolment.invalid_code", "The enrolment code is unknown, expired or used"


class EnrolmentTotpRequired(InvalidInput):
    code, title = "enrolment.totp_required", "This account requires a TOTP code to enrol"
