"""Authentication errors.

Tree::

    Unauthenticated -> InvalidCredentials   auth.invalid_credentials
    Unauthenticated -> InvalidToken         auth.invalid_token
    Unauthenticated -> TotpRequired         auth.totp_required
    Unauthenticated -> InvalidTotp          auth.invalid_totp
    Forbidden       -> AdminRequired        auth.admin_required
    Conflict        -> TotpAlreadyEnabled   auth.totp_already_enabled
    InvalidInput    -> TotpNotPending       auth.totp_not_pending
    TooManyRequests -> LoginThrottled       auth.throttled
"""

from app.core.errors import Conflict, Forbidden, InvalidInput, TooManyRequests, Unauthenticated


class InvalidCredentials(Unauthenticated):
    code, title = "auth.invalid_credentials", "Wrong username or password"


class InvalidToken(Unauthenticated):
    code, title = "auth.invalid_token", "The access token is missing, expired or revoked"


class TotpRequired(Unauthenticated):
    code, title = "auth.totp_required", "A TOTP code is required"


class InvalidTotp(Unauthenticated):
    code, title = "auth.invalid_totp", "The TOTP code is wrong or was already used"


class AdminRequired(Forbidden):
    code, title = "auth.admin_required", "Only a platform administrator may do this"


class TotpAlreadyEnabled(Conflict):
    code, title = "auth.totp_already_enabled", "TOTP is already enabled"


class TotpNotPending(InvalidInput):
    code, title = "auth.totp_not_pending", "Start TOTP setup before confirming it"


class LoginThrottled(TooManyRequests):
    code, title = "auth.throttled", "Too many failed logins; try again later"
