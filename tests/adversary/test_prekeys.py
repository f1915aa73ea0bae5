"""The operator serves bad prekeys: a one-time prekey twice, one it signed itself or never
signed, an expired signed prekey. The sender refuses each with its specific error, falls back
as PROTOCOL §3.3 says, and every message still reaches its reader."""

from __future__ import annotations

import copy
import time
import uuid
from typing import Any

import pytest
from cordon_client.crypto import parse_envelope
from cordon_client.crypto._encoding import b64e
from cordon_client.crypto.keys import DAY_MS, make_prekey
from cordon_client.crypto.prekeys import PrekeyType, make_one_time_prekey, wrap_prekey
from cordon_client.exceptions import (
    ExcludedDeviceError,
    PrekeyReuseError,
    SignatureError,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import insert

from app.keys.models import OneTimePrekey
from tests.adversary.expect import exactly, outcomes
from tests.adversary.operator_db import OperatorDB
from tests.adversary.party import Group, Party
from tests.adversary.proxy import RewritingProxy


def _claim_path(group: Group) -> str:
    return f"/api/v1/groups/{group.id}/one-time-prekeys/claim"


async def _wrap_type(operator_db: OperatorDB, group: Group, seq: int, device: uuid.UUID) -> int:
    """The prekey type the stored envelope's wrap for `device` was sealed to."""
    stored = (await operator_db.item(group.id, seq)).envelope
    return wrap_prekey(parse_envelope(bytes(stored)), device)[0]


async def _send_to_alice(group: Group, text: str) -> int:
    return await group.coordinator.send(
        group.id, text, kind="chat", to_users=[group.users["alice"].id]
    )


async def _alice_reads(group: Group, *seqs: int, texts: tuple[str, ...]) -> None:
    got = outcomes(await group["alice"].receive())
    assert [got[s] for s in seqs] == [(True, t, None) for t in texts]


async def test_a_one_time_prekey_served_twice_is_refused(
    party: Party, proxy: RewritingProxy, operator_db: OperatorDB
):
    """The proxy answers every claim with the first claim's key: the second send refuses it
    with PrekeyReuseError and seals to the signed prekey; alice reads both messages."""
    group = await party.group(("alice",), proxied=("coordinator",))
    alice = group.device_id("alice")
    rule = proxy.replay_json("POST", _claim_path(group))
    first = await _send_to_alice(group, "first")
    served = proxy.requests("POST", _claim_path(group))[0].response_json
    reused = served["items"][0]["one_time_prekey"]["prekey_id"]  # type: ignore[index]
    assert await _wrap_type(operator_db, group, first, alice) == PrekeyType.ONE_TIME
    assert group.coordinator.prekey_refusals == []

    second = await _send_to_alice(group, "second")
    assert rule.hits == 2
    [refusal] = group.coordinator.prekey_refusals
    assert isinstance(refusal, PrekeyReuseError)
    assert refusal.reason == (
        f"one-time prekey {reused} of device {alice} is not newer than one this client "
        f"already used ({reused}): the server served it twice"
    )
    assert await _wrap_type(operator_db, group, second, alice) == PrekeyType.SIGNED
    await _alice_reads(group, first, second, texts=("first", "second"))

    rule.remove()
    third = await _send_to_alice(group, "third")
    assert await _wrap_type(operator_db, group, third, alice) == PrekeyType.ONE_TIME
    await _alice_reads(group, third, texts=("third",))


async def test_an_operator_key_swapped_into_the_claim_is_refused(
    party: Party, proxy: RewritingProxy, operator_db: OperatorDB
):
    """The proxy swaps alice's claimed public key for the operator's: SignatureError names
    the key and device, the wrap goes to alice's signed prekey, and alice reads it."""
    group = await party.group(("alice",), proxied=("coordinator",))
    alice = group.device_id("alice")
    operator_key = X25519PrivateKey.generate().public_key().public_bytes_raw()
    swapped: list[int] = []

    def swap(body: Any) -> Any:
        record = body["items"][0]["one_time_prekey"]
        record["public_key"] = b64e(operator_key)
        swapped.append(record["prekey_id"])
        return body

    proxy.rewrite_json("POST", _claim_path(group), swap, times=1)
    seq = await _send_to_alice(group, "sealed past the operator")
    [refusal] = group.coordinator.prekey_refusals
    assert isinstance(refusal, SignatureError)
    assert refusal.reason == (
        f"one-time prekey {swapped[0]} of device {alice}: signature does not verify"
    )
    assert await _wrap_type(operator_db, group, seq, alice) == PrekeyType.SIGNED
    await _alice_reads(group, seq, texts=("sealed past the operator",))


async def test_an_unsigned_one_time_prekey_planted_in_the_database_is_refused(
    party: Party, operator_db: OperatorDB
):
    """The operator inserts its own key for alice's device, lowest id so it is served first,
    signed by no one (zero signature) and then signed by a key of its own: both are refused
    and the honest keys behind them are used by the next sends."""
    group = await party.group(("alice",), proxied=())
    alice = group.device_id("alice")
    planted = X25519PrivateKey.generate().public_key().public_bytes_raw()
    _, self_signed = make_one_time_prekey(Ed25519PrivateKey.generate(), alice, 0)
    planted_rows = ((planted, bytes(64)), (self_signed.public_key, self_signed.signature))
    for n, (public_key, sig) in enumerate(planted_rows):
        await operator_db.execute(
            insert(OneTimePrekey).values(
                id=uuid.uuid4(), device_id=alice, prekey_id=0, public_key=public_key, sig=sig
            )
        )
        seq = await _send_to_alice(group, f"planted {n}")
        refusal = group.coordinator.prekey_refusals[-1]
        assert isinstance(refusal, SignatureError)
        assert refusal.reason == f"one-time prekey 0 of device {alice}: signature does not verify"
        assert await _wrap_type(operator_db, group, seq, alice) == PrekeyType.SIGNED
        await _alice_reads(group, seq, texts=(f"planted {n}",))
    seq = await _send_to_alice(group, "honest")
    assert await _wrap_type(operator_db, group, seq, alice) == PrekeyType.ONE_TIME
    assert len(group.coordinator.prekey_refusals) == 2


def _expired_prekey(group: Group, name: str) -> dict[str, Any]:
    """A prekey genuinely signed by the device, made 8 days ago, so expired a day ago."""
    _, keystore = group[name].state.require()
    now = int(time.time() * 1000)
    _, prekey = make_prekey(keystore.signing_key, keystore.device_id, 99, now - 8 * DAY_MS)
    return prekey.to_json()


async def test_an_expired_signed_prekey_is_refused(
    party: Party, proxy: RewritingProxy, operator_db: OperatorDB
):
    """The proxy serves alice's device with an expired (validly signed) prekey. With a
    one-time prekey claimed the sender never needs it; without one, the device is left out
    (ExcludedDeviceError naming the device, its member and the expired prekey; it was the only
    recipient, so the send fails) and nothing is posted. The sender then
    keeps working."""
    group = await party.group(("alice",), proxied=("coordinator",))
    alice = group.device_id("alice")
    expired = _expired_prekey(group, "alice")

    def serve_expired(body: Any) -> Any:
        for device in body:
            if device["device_id"] == str(alice):
                device["prekeys"] = [expired]
        return body

    keys = proxy.rewrite_json("GET", f"/api/v1/groups/{group.id}/keys", serve_expired)
    seq = await _send_to_alice(group, "one-time prekey")
    assert await _wrap_type(operator_db, group, seq, alice) == PrekeyType.ONE_TIME
    await _alice_reads(group, seq, texts=("one-time prekey",))

    def none_left(body: Any) -> Any:
        out = copy.deepcopy(body)
        for item in out["items"]:
            item["one_time_prekey"] = None
        return out

    claims = proxy.rewrite_json("POST", _claim_path(group), none_left)
    posts_before = len(proxy.requests("POST", f"/api/v1/groups/{group.id}/messages"))
    left_out = f"device {alice} of member {group.users['alice'].id} left out: "
    with pytest.raises(
        ExcludedDeviceError, match=exactly(left_out + f"prekey 99 of {alice} is expired")
    ):
        await _send_to_alice(group, "never sealed")
    assert len(proxy.requests("POST", f"/api/v1/groups/{group.id}/messages")) == posts_before

    keys.remove()
    claims.remove()
    seq = await _send_to_alice(group, "after the attack")
    assert await _wrap_type(operator_db, group, seq, alice) == PrekeyType.ONE_TIME
    await _alice_reads(group, seq, texts=("after the attack",))
