"""Which devices a targeted envelope is sealed to (PROTOCOL.md §3, recipient selection).

Each device's served prekey is verified on its own: a device whose prekey does not verify
against the roster (forged signature, expired, missing; signed or one-time alike, whatever
`GroupSession.recipients_for` checks) is left out and reported, and the envelope still goes
to every other device. Nothing is ever encrypted to an unverified key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from cordon_client._crypto import GroupSession, Recipient, SignedPrekey
from cordon_client.exceptions import ExcludedDeviceError, KeyUnavailableError, SignatureError


def select_recipients(
    session: GroupSession,
    prekeys: Mapping[uuid.UUID, SignedPrekey],
    devices: Iterable[uuid.UUID],
    *,
    now_ms: int,
) -> tuple[list[Recipient], list[ExcludedDeviceError]]:
    """The verified recipients among `devices`, and one `ExcludedDeviceError` per device left
    out. A device outside the verified roster still raises (the caller chose it wrongly)."""
    recipients: list[Recipient] = []
    excluded: list[ExcludedDeviceError] = []
    for device_id in devices:
        try:
            recipients += session.recipients_for(prekeys, now_ms=now_ms, devices=[device_id])
        except (SignatureError, KeyUnavailableError) as exc:
            device = session.roster.device(device_id)
            member = device.member_id if device is not None else None
            excluded.append(ExcludedDeviceError(device_id, member, exc.reason))
    return recipients, excluded
