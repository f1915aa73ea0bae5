"""One-time prekeys end to end: uploaded at login, claimed by senders, opened once,
replenished by the receiver, and the signed prekey used once a device has none left."""

import asyncio
import base64
import uuid
from pathlib import Path

from cordon_client._client import Cordon
from cordon_client.crypto import parse_envelope
from cordon_client.crypto.prekeys import (
    ONE_TIME_BATCH,
    REPLENISH_BELOW,
    PrekeyType,
    wrap_prekey,
)
from sqlalchemy.ext.asyncio import AsyncSession

from tests.e2e.server import Server
from tests.e2e.test_sdk import _operation

COUNT = "/api/v1/devices/me/one-time-prekeys"


async def _wrap_of(reader: Cordon, gid: uuid.UUID, seq: int, device: uuid.UUID):
    item = await reader._call("GET", f"/api/v1/groups/{gid}/messages/{seq}")
    return wrap_prekey(parse_envelope(base64.b64decode(item["envelope"])), device)


async def _drain(claimer: Cordon, gid: uuid.UUID, device: uuid.UUID, n: int) -> None:
    for _ in range(n):
        await claimer._call(
            "POST",
            f"/api/v1/groups/{gid}/one-time-prekeys/claim",
            json={"device_ids": [str(device)]},
        )


async def test_one_time_prekeys_through_a_real_server(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """A direct message wraps to a claimed one-time prekey; the receiver opens it, deletes
    the private half, and tops the server's stock up once it runs low; an exhausted device
    is reached through its signed prekey."""
    op = await _operation(server, session, tmp_path, "Operation One-Time")
    alice = op.clients["alice"]
    alice_device = alice.state.require()[1].device_id
    assert (await alice._call("GET", COUNT))["count"] == ONE_TIME_BATCH
    held = set(alice.one_time_prekeys().privates)
    try:
        seq = await op.coord.send(op.gid, "to alice", kind="chat", to_users=[op.users["alice"].id])
        kind, prekey_id = await _wrap_of(alice, op.gid, seq, alice_device)
        assert kind == PrekeyType.ONE_TIME and prekey_id == min(held)
        assert (await alice._call("GET", COUNT))["count"] == ONE_TIME_BATCH - 1
        [got] = [i for i in await alice.receive() if i.seq == seq]
        assert got.verified and got.text == "to alice"
        assert set(alice.one_time_prekeys().privates) == held - {prekey_id}
        assert op.coord.prekey_refusals == []

        await _drain(op.coord, op.gid, alice_device, ONE_TIME_BATCH - REPLENISH_BELOW)
        seq = await op.coord.send(op.gid, "low", kind="chat", to_users=[op.users["alice"].id])
        assert [i.text for i in await alice.receive() if i.seq == seq] == ["low"]
        assert (await alice._call("GET", COUNT))["count"] == REPLENISH_BELOW - 2 + ONE_TIME_BATCH

        await _drain(op.coord, op.gid, alice_device, REPLENISH_BELOW - 2 + ONE_TIME_BATCH)
        seq = await op.coord.send(op.gid, "empty", kind="chat", to_users=[op.users["alice"].id])
        assert (await _wrap_of(alice, op.gid, seq, alice_device))[0] == PrekeyType.SIGNED
        assert [i.text for i in await alice.receive() if i.seq == seq] == ["empty"]
    finally:
        await op.close()


async def test_a_listening_device_replenishes_its_one_time_prekeys(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """A device that only listens (no `receive()`) still tops its stock up once a live
    envelope used one of its last 25 keys."""
    op = await _operation(server, session, tmp_path, "Operation Live Keys")
    alice = op.clients["alice"]
    alice_device = alice.state.require()[1].device_id
    try:
        await alice.receive()  # the daily count check is done: only a used key triggers one
        await _drain(op.coord, op.gid, alice_device, ONE_TIME_BATCH - REPLENISH_BELOW + 1)
        listener = alice.listen(backoff_base=0.05)
        async with listener:
            first = asyncio.ensure_future(anext(aiter(listener)))  # iterating connects
            await asyncio.wait_for(listener.caught_up.wait(), 30)
            seq = await op.coord.send(op.gid, "live", kind="chat", to_users=[op.users["alice"].id])
            item = await asyncio.wait_for(first, 30)
        assert (item.seq, item.text, item.verified) == (seq, "live", True)
        assert (await _wrap_of(alice, op.gid, seq, alice_device))[0] == PrekeyType.ONE_TIME
        assert (await alice._call("GET", COUNT))["count"] == REPLENISH_BELOW - 2 + ONE_TIME_BATCH
    finally:
        await op.close()
