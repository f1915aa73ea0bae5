"""Seizure cases and vaccine pre-notifications on top of `Cordon` (docs/workflows.md).

The domain layer's public surface. Every operation validates content against its template
*before* encrypting (an invalid case never leaves the device); `sync` validates everything
*after* decrypting (`decode_items`) and keeps refused items with their field path and reason.

* `_domainstore`: the local archive of decrypted items and `sync`.
* `_cases`: `post_case`, `amend_case`, `reply`, `review_case`, `cases`.
* `_prenotify`: `send_prenotification`, `transition`, `prenotification(s)`,
  `discrepancy_to_case`, `post_targeted`.
* `_domainview`: the pure part: `decode_items`, case / pre-notification views, filters.
"""

from cordon_client._cases import amend_case, cases, post_case, reply, review_case
from cordon_client._domainstore import (
    DomainError,
    archived,
    coordinators,
    load_group_templates,
    sync,
    trusted_template_keys,
)
from cordon_client._domainview import (
    CaseView,
    Item,
    PrenotificationView,
    build_cases,
    build_prenotifications,
    decode_items,
    domain_registry,
    filter_cases,
    filter_views,
)
from cordon_client._prenotify import (
    discrepancy_to_case,
    post_targeted,
    prenotification,
    prenotifications,
    send_prenotification,
    transition,
)

__all__ = [
    "CaseView",
    "DomainError",
    "Item",
    "PrenotificationView",
    "amend_case",
    "archived",
    "build_cases",
    "build_prenotifications",
    "cases",
    "coordinators",
    "decode_items",
    "discrepancy_to_case",
    "domain_registry",
    "filter_cases",
    "filter_views",
    "load_group_templates",
    "post_case",
    "post_targeted",
    "prenotification",
    "prenotifications",
    "reply",
    "review_case",
    "send_prenotification",
    "sync",
    "transition",
    "trusted_template_keys",
]
