"""Who may post key material for the library and history: document keys, library grants and
history grants (`library` stream items) come only from coordinators (PROTOCOL.md §8, §9).

Defence in depth: receivers check the sender's role in their verified log regardless. Kept
apart from `service` so the messages domain can import it without the library's storage."""

from app.groups.models import GroupRole
from app.groups.service import GroupAccess
from app.library.exceptions import KeyingNotAllowed


def ensure_may_key(access: GroupAccess) -> None:
    """Refuse a DOCUMENT_KEY, LIBRARY_GRANT or HISTORY_GRANT post from anyone but those who
    may publish: coordinators, and co-coordinators where the group lets them publish (their
    documents are accepted by readers only if the log gives them the coordinator role)."""
    publisher = access.role == GroupRole.COORDINATOR or (
        access.role == GroupRole.CO_COORDINATOR and access.group.co_coordinators_publish
    )
    if not publisher:
        raise KeyingNotAllowed(
            "Only coordinators post document keys, library grants and history grants."
        )
