"""Service account errors.

Tree::

    Unauthenticated -> InvalidServiceCredential   service_account.invalid_credential
    Forbidden       -> OutOfScope                 service_account.out_of_scope
    Forbidden       -> ServiceAccountDenied       service_account.management_denied
    NotFound        -> ServiceAccountNotFound     service_account.not_found
    Conflict        -> NotAdmissible              service_account.not_admissible
    Conflict        -> RevokedStaysRevoked        service_account.revoked
"""

from app.core.errors import Conflict, Forbidden, NotFound, Unauthenticated


class InvalidServiceCredential(Unauthenticated):
    code = "service_account.invalid_credential"
    title = "The service account credential is wrong or revoked"


class OutOfScope(Forbidden):
    code = "service_account.out_of_scope"
    title = "The service account's scope does not cover this"


class ServiceAccountDenied(Forbidden):
    code = "service_account.management_denied"
    title = "Only an administrator, or an NCP of its organisation, may do this"


class ServiceAccountNotFound(NotFound):
    code, title = "service_account.not_found", "No such service account"


class NotAdmissible(Conflict):
    code = "service_account.not_admissible"
    title = "A service account joins only the groups of its scope, as a member"


class RevokedStaysRevoked(Conflict):
    code = "service_account.revoked"
    title = (
        "A revoked service account stays revoked: its credential never works again; create a "
        "new service account instead"
    )
