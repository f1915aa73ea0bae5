"""What a service account may call: its operations and groups, checked on the one
authorisation path (`current_principal` for the route, `group_access` for the group,
`check_post` for the kind of a posted item). Pure: no I/O, no FastAPI.

A route absent from `ROUTES` is refused to every service account (deny by default); a route
listed with no operation is the baseline every member client needs (its own account and keys,
reading its groups, the signed log, sync, joining by invitation). `tests/service_accounts`
fails when an authenticated route is in neither `ROUTES` nor `DENIED`, so a new route forces a
decision.
"""

import uuid
from collections.abc import Iterable

from app.messages.models import MessageKind
from app.service_accounts.exceptions import OutOfScope
from app.service_accounts.models import ServiceAccount
from app.service_accounts.operations import Operation as Operation  # re-exported

BASELINE: frozenset[Operation] = frozenset()
POSTING = frozenset(
    {Operation.CASES_POST, Operation.PRENOTIFICATIONS_SEND, Operation.LIBRARY_PUBLISH}
)

# (method, route template) -> the operations of which any one admits the call.
ROUTES: dict[tuple[str, str], frozenset[Operation]] = {
    ("POST", "/api/v1/auth/logout"): BASELINE,
    ("GET", "/api/v1/users/me"): BASELINE,
    ("GET", "/api/v1/users"): BASELINE,
    ("GET", "/api/v1/organisations"): BASELINE,
    ("GET", "/api/v1/organisations/{organisation_id}"): BASELINE,
    ("GET", "/api/v1/devices"): BASELINE,
    ("GET", "/api/v1/devices/{device_id}"): BASELINE,
    ("GET", "/api/v1/groups"): BASELINE,
    ("GET", "/api/v1/groups/{group_id}"): BASELINE,
    ("GET", "/api/v1/groups/{group_id}/members"): BASELINE,
    ("GET", "/api/v1/groups/{group_id}/events"): BASELINE,
    ("POST", "/api/v1/devices/me/prekeys"): BASELINE,
    ("PUT", "/api/v1/devices/me/member-key"): BASELINE,
    ("GET", "/api/v1/devices/me/one-time-prekeys"): BASELINE,
    ("POST", "/api/v1/devices/me/one-time-prekeys"): BASELINE,
    ("GET", "/api/v1/groups/{group_id}/member-keys"): BASELINE,
    ("GET", "/api/v1/groups/{group_id}/keys"): BASELINE,
    ("POST", "/api/v1/groups/{group_id}/log"): BASELINE,  # own devices only (app.keys)
    ("GET", "/api/v1/groups/{group_id}/log"): BASELINE,
    ("POST", "/api/v1/groups/{group_id}/one-time-prekeys/claim"): POSTING,
    ("POST", "/api/v1/groups/{group_id}/invitations/{invitation_id}/join-request"): BASELINE,
    ("GET", "/api/v1/groups/{group_id}/messages/{seq}"): BASELINE,
    ("GET", "/api/v1/groups/{group_id}/messages/{seq}/receipts"): BASELINE,
    ("GET", "/api/v1/sync"): BASELINE,
    ("POST", "/api/v1/receipts"): BASELINE,
    ("GET", "/api/v1/groups/{group_id}/templates"): BASELINE,
    ("GET", "/api/v1/groups/{group_id}/templates/{template_id}/versions/{version}"): BASELINE,
    ("GET", "/api/v1/groups/{group_id}/history/{scope}"): BASELINE,
    ("POST", "/api/v1/groups/{group_id}/messages"): POSTING,
    ("POST", "/api/v1/groups/{group_id}/messages/batch"): POSTING,
    ("POST", "/api/v1/groups/{group_id}/prenotifications"): frozenset(
        {Operation.PRENOTIFICATIONS_SEND}
    ),
    ("GET", "/api/v1/groups/{group_id}/prenotifications"): frozenset(
        {Operation.PRENOTIFICATIONS_SEND}
    ),
    ("GET", "/api/v1/groups/{group_id}/prenotifications/{prenotification_id}"): frozenset(
        {Operation.PRENOTIFICATIONS_SEND}
    ),
    ("POST", "/api/v1/groups/{group_id}/prenotifications/{prenotification_id}/events"): frozenset(
        {Operation.PRENOTIFICATIONS_SEND}
    ),
    **{
        ("GET", path): frozenset({Operation.LIBRARY_READ, Operation.LIBRARY_PUBLISH})
        for path in (
            "/api/v1/groups/{group_id}/library/documents",
            "/api/v1/groups/{group_id}/library/documents/{document_id}",
            "/api/v1/groups/{group_id}/library/documents/{document_id}/versions",
            "/api/v1/groups/{group_id}/library/documents/{document_id}/versions/{version}",
            "/api/v1/groups/{group_id}/library/documents/{document_id}/versions/{version}/content",
        )
    },
    **{
        route: frozenset({Operation.LIBRARY_PUBLISH})
        for route in (
            ("POST", "/api/v1/groups/{group_id}/library/uploads"),
            ("POST", "/api/v1/groups/{group_id}/library/documents/{document_id}/withdraw"),
            ("GET", "/api/v1/library/uploads/{upload_id}"),
            ("DELETE", "/api/v1/library/uploads/{upload_id}"),
            ("PUT", "/api/v1/library/segments/{upload_id}/{index}"),
            ("POST", "/api/v1/library/uploads/{upload_id}/finalise"),
        )
    },
}

# Authenticated routes no service account may call: managing people, groups, invitations,
# templates and service accounts, and the interactive account's password and TOTP.
DENIED: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "/api/v1/auth/sessions/revoke-all"),
        ("POST", "/api/v1/auth/password"),
        ("POST", "/api/v1/auth/totp/setup"),
        ("POST", "/api/v1/auth/totp/confirm"),
        ("POST", "/api/v1/organisations"),
        ("POST", "/api/v1/users"),
        ("POST", "/api/v1/users/{user_id}/enrolment-codes"),
        ("POST", "/api/v1/users/{user_id}/disable"),
        ("POST", "/api/v1/users/{user_id}/enable"),
        ("POST", "/api/v1/devices/{device_id}/revoke"),
        ("POST", "/api/v1/groups"),
        ("PATCH", "/api/v1/groups/{group_id}"),
        ("POST", "/api/v1/groups/{group_id}/status"),
        ("POST", "/api/v1/groups/{group_id}/members"),
        ("PATCH", "/api/v1/groups/{group_id}/members/{user_id}"),
        ("DELETE", "/api/v1/groups/{group_id}/members/{user_id}"),
        ("POST", "/api/v1/groups/{group_id}/invitations"),
        ("DELETE", "/api/v1/groups/{group_id}/invitations/{invitation_id}"),
        ("GET", "/api/v1/groups/{group_id}/join-requests"),
        ("POST", "/api/v1/groups/{group_id}/templates"),
        ("POST", "/api/v1/service-accounts"),
        ("GET", "/api/v1/service-accounts"),
        ("GET", "/api/v1/service-accounts/{user_id}"),
        ("POST", "/api/v1/service-accounts/{user_id}/revoke"),
    }
)

# The kind of a posted item -> the operations that may post it. Keys (sender keys, history
# for a new device) go with any posting operation: without them nothing else can be read.
KINDS: dict[MessageKind, frozenset[Operation]] = {
    MessageKind.ALERT: frozenset({Operation.CASES_POST}),
    MessageKind.CHAT: frozenset({Operation.CASES_POST}),
    MessageKind.PRENOTIFICATION: frozenset({Operation.PRENOTIFICATIONS_SEND}),
    MessageKind.PRENOTIFICATION_EVENT: frozenset({Operation.PRENOTIFICATIONS_SEND}),
    MessageKind.LIBRARY: frozenset({Operation.LIBRARY_PUBLISH}),
    MessageKind.SENDER_KEY: POSTING,
    MessageKind.HISTORY_TRANSFER: POSTING,
}


def _granted(granted: Iterable[str], needed: frozenset[Operation]) -> bool:
    return not needed or any(op in needed for op in granted)


def check_route(service: ServiceAccount | None, *, method: str, template: str | None) -> None:
    """`service_account.out_of_scope` unless the route is baseline or one of its
    operations is granted; a person (`service` None) is not limited here."""
    if service is None:
        return
    method = "GET" if method == "HEAD" else method
    needed = ROUTES.get((method, template or ""))
    if needed is None:
        raise OutOfScope(f"A service account may not call {method} {template}.")
    if not _granted(service.operations, needed):
        raise OutOfScope(f"This needs one of: {', '.join(sorted(needed))}.")


def check_group(service: ServiceAccount | None, *, group_id: uuid.UUID) -> None:
    """`service_account.out_of_scope` for a group the account is not scoped to."""
    if service is not None and not service.allows_group(group_id):
        raise OutOfScope("The service account is not scoped to this group.")


def check_kind(operations: frozenset[str] | None, *, kind: MessageKind) -> None:
    """`service_account.out_of_scope` for an item kind none of the operations may post."""
    if operations is None:
        return
    needed = KINDS.get(kind, frozenset())
    if not needed or not _granted(operations, needed):
        raise OutOfScope(
            f"A service account needs one of {', '.join(sorted(needed))} for {kind.value}."
        )
