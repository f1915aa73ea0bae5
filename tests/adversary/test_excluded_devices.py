"""The operator replaces one member device's prekey (issue 11; PROTOCOL.md §3): the sender
leaves exactly that device out, names it and the reason, and still reaches everyone else.
Nothing is sealed to the forged key, so the device gets nothing it can decrypt."""

import re
import uuid

import pytest
from cordon_client import prenotifications as pn_ops
from cordon_client.exceptions import ExcludedDeviceError
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import update

from app.keys.models import OneTimePrekey
from tests.adversary.expect import exactly, outcomes
from tests.adversary.operator_db import OperatorDB
from tests.adversary.party import Group, Party
from tests.templates import samples


async def _forge_prekeys(operator_db: OperatorDB, device_id: uuid.UUID) -> None:
    """Every stored prekey of the device, signed and one-time, gets the operator's public key
    (signature kept): a sender refuses the one-time prekey and then the signed one."""
    for prekey in await operator_db.prekeys(device_id):
        forged = X25519PrivateKey.generate().public_key().public_bytes_raw()
        await operator_db.replace_prekey(device_id, prekey.prekey_id, public_key=forged)
    forged = X25519PrivateKey.generate().public_key().public_bytes_raw()
    await operator_db.execute(
        update(OneTimePrekey).where(OneTimePrekey.device_id == device_id).values(public_key=forged)
    )


def _left_out(group: Group, name: str) -> str:
    return (
        f"device {group.device_id(name)} of member {group.users[name].id} left out: "
        "prekey: signature does not verify"
    )


async def test_forged_prekey_leaves_out_only_that_device(
    party: Party, operator_db: OperatorDB
) -> None:
    """Bob's prekey is forged before the coordinator's first broadcast: the chain goes to
    Alice only, the send reports Bob's device, Alice reads the alert verified, Bob cannot."""
    group = await party.group(("alice", "bob"), proxied=())
    coord, bob_device = group.coordinator, group.device_id("bob")
    await _forge_prekeys(operator_db, bob_device)

    seq = await coord.send(group.id, "to everyone", kind="alert")
    assert [type(e) for e in coord.excluded] == [ExcludedDeviceError]
    (excluded,) = coord.excluded
    assert (excluded.device_id, excluded.member_id, excluded.cause, excluded.reason) == (
        bob_device,
        group.users["bob"].id,
        "prekey: signature does not verify",
        _left_out(group, "bob"),
    )
    assert outcomes(await group["alice"].receive()) == {seq: (True, "to everyone", None)}
    bob = {i.seq: i for i in await group["bob"].receive()}
    assert (bob[seq].verified, bob[seq].content) == (False, None)
    assert re.fullmatch(
        f"no sender key for chain [0-9a-f-]{{36}} of device {group.device_id('coordinator')}; "
        "the sender was asked to re-share it",
        bob[seq].error or "",
    )

    users = [group.users["alice"].id, group.users["bob"].id]
    targeted = await coord.send(group.id, "to both", kind="alert", to_users=users)
    assert [e.reason for e in coord.excluded] == [_left_out(group, "bob")]
    stored = await operator_db.item(group.id, targeted)
    assert {uuid.UUID(str(r)) for r in stored.recipients} == {group.device_id("alice")}
    assert outcomes(await group["alice"].receive()) == {targeted: (True, "to both", None)}
    assert targeted not in {i.seq for i in await group["bob"].receive()}

    with pytest.raises(ExcludedDeviceError, match=exactly(_left_out(group, "bob"))):
        await coord.send(group.id, "to bob only", kind="alert", to_users=users[1:])
    after = await coord.send(group.id, "still working", kind="alert")
    assert [e.reason for e in coord.excluded] == [_left_out(group, "bob")]  # tried again
    assert outcomes(await group["alice"].receive()) == {after: (True, "still working", None)}

    cli = await party.cli("coordinator")  # closes the coordinator's SDK client
    result = await cli.run("send", str(group.id), "from the command line")
    lines = result.output.splitlines()
    assert lines[0].startswith("sent #")
    assert lines[1:] == [f"warning: {_left_out(group, 'bob')}"]
    sent = int(lines[0].removeprefix("sent #"))
    assert outcomes(await group["alice"].receive()) == {sent: (True, "from the command line", None)}


async def test_forged_prekey_of_a_prenotification_party_is_named(
    party: Party, operator_db: OperatorDB
) -> None:
    """A pre-notification must reach every named administration (the server refuses one that
    does not): with Bob's prekey forged, naming Bob fails with his device and the reason
    before anything is posted; one to Alice alone goes through and is read verified."""
    group = await party.group(("alice", "bob"), proxied=())
    coord = group.coordinator
    await _forge_prekeys(operator_db, group.device_id("bob"))
    alice_id, bob_id = group.users["alice"].id, group.users["bob"].id
    with pytest.raises(ExcludedDeviceError, match=exactly(_left_out(group, "bob"))):
        await pn_ops.send_prenotification(
            coord, group.id, samples.prenotification(), destination=[alice_id, bob_id]
        )
    record = await pn_ops.send_prenotification(
        coord, group.id, samples.prenotification(), destination=[alice_id]
    )
    assert coord.excluded == []
    seq = int(record["stream_seq"])
    got = {i.seq: i for i in await group["alice"].receive()}
    assert (got[seq].kind, got[seq].verified) == ("prenotification", True)
    assert seq not in {i.seq for i in await group["bob"].receive()}
