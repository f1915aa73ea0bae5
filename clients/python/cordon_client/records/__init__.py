"""Decrypted, template-checked items shared by cases and pre-notifications.

* `view`: the pure part: `decode_items`, case / pre-notification views, filters.
* `store`: the local archive of decrypted items and `sync`.
* `workflow`: the pre-notification state machine and its signed status events, which the
  views verify (so it sits here, below both domains).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOME = {
    **dict.fromkeys(
        ("DomainError", "archived", "coordinators", "load_group_templates", "sync"), "store"
    ),
    "trusted_template_keys": "store",
    **dict.fromkeys(
        (
            "CaseView",
            "Item",
            "PrenotificationView",
            "build_cases",
            "build_prenotifications",
            "decode_items",
            "domain_registry",
            "filter_cases",
            "filter_views",
        ),
        "view",
    ),
}


def __getattr__(name: str) -> Any:
    """The names below, imported on first use: importing `workflow` (whose constants every
    `cordon --help` shows) must not load the views and store, with the templates and JSON
    Schema behind them (issue 12, "Speed")."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


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
