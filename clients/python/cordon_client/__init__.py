"""Cordon client SDK: end-to-end encryption, the server API and the `cordon` CLI.

`Cordon` is the high-level client: one device of one user, with an encrypted keystore.

The names below are loaded on first use (PEP 562), so importing a submodule — the `cordon`
executable's entry point, `cordon_client.wire` — does not import httpx and the whole SDK
first; `from cordon_client import Cordon` works as before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cordon_client._client import Cordon, Incoming
    from cordon_client.account.state import NotLoggedIn, Profile
    from cordon_client.exceptions import (
        ApiError,
        CordonClientError,
        CryptoError,
        ExcludedDeviceError,
        RealtimeError,
        TrustError,
        UnknownIdError,
    )
    from cordon_client.groups.directory import GroupMember
    from cordon_client.messaging.realtime import Listener

_WHERE = {
    "ApiError": "cordon_client.exceptions",
    "Cordon": "cordon_client._client",
    "CordonClientError": "cordon_client.exceptions",
    "CryptoError": "cordon_client.exceptions",
    "ExcludedDeviceError": "cordon_client.exceptions",
    "GroupMember": "cordon_client.groups.directory",
    "Incoming": "cordon_client._client",
    "Listener": "cordon_client.messaging.realtime",
    "NotLoggedIn": "cordon_client.account.state",
    "Profile": "cordon_client.account.state",
    "RealtimeError": "cordon_client.exceptions",
    "TrustError": "cordon_client.exceptions",
    "UnknownIdError": "cordon_client.exceptions",
}

__all__ = [
    "ApiError",
    "Cordon",
    "CordonClientError",
    "CryptoError",
    "ExcludedDeviceError",
    "GroupMember",
    "Incoming",
    "Listener",
    "NotLoggedIn",
    "Profile",
    "RealtimeError",
    "TrustError",
    "UnknownIdError",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module when the name is first asked for."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'cordon_client' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
