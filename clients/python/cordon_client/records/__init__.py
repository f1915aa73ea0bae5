"""Decrypted, template-checked items shared by cases and pre-notifications.

* `view`: the pure part: `decode_items`, case / pre-notification views, filters.
* `store`: the local archive of decrypted items and `sync`.
* `workflow`: the pre-notification state machine and its signed status events, which the
  views verify (so it sits here, below both domains).
"""

from cordon_client.records.store import (
    DomainError,
    archived,
    coordinators,
    load_group_templates,
    sync,
    trusted_template_keys,
)
from cordon_client.records.view import (
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

__all__ = [
    "CaseView",
    "DomainError",
    "Item",
    "PrenotificationView",
    "archived",
    "build_cases",
    "build_prenotifications",
    "coordinators",
    "decode_items",
    "domain_registry",
    "filter_cases",
    "filter_views",
    "load_group_templates",
    "sync",
    "trusted_template_keys",
]
