"""Cordon client SDK: end-to-end encryption, the server API and the `cordon` CLI.

`Cordon` is the high-level client: one device of one user, with an encrypted keystore.
"""

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
