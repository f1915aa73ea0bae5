"""The operator against root-attested checkpoints (PROTOCOL §4.4): the coordinator's client
writes them itself, and an entry they attest cannot be edited in the database."""

from __future__ import annotations

from typing import Any

import pytest
from cordon_client.crypto import new_signing_key, public_bytes, verify_log
from cordon_client.crypto._encoding import b64e
from cordon_client.exceptions import LogChainError

from tests.adversary.expect import exactly, outcomes
from tests.adversary.operator_db import OperatorDB
from tests.adversary.party import Party


async def test_entry_edited_before_a_root_checkpoint_is_refused(
    party: Party, operator_db: OperatorDB
) -> None:
    """The coordinator's client appends a root-signed checkpoint when one is due; bob's
    client then skips the attested signatures, but the operator's edit of alice's device
    key before the checkpoint breaks the hash chain: refused by name, bob's verified head
    unchanged, and everything works again once the row is restored."""
    group = await party.group(("alice", "bob"), joined=("alice",))
    coord, bob = group.coordinator, group["bob"]
    coord.checkpoint_interval = 6
    assert (await coord.roster(group.id)).head_seq == 4
    await party.admit(coord, bob, group.id, group.users["bob"].username)
    await bob.join_group(group.id, expected_fingerprint=group.code)

    roster = await bob.roster(group.id)
    checkpoint = roster.entries[6]
    root = coord.state.root_key(group.id)
    assert root is not None
    assert (checkpoint.op, checkpoint.signer) == ("checkpoint", public_bytes(root))
    before = verify_log(roster.root_key, group.id, roster.entries[:6])
    assert checkpoint.body["roster_hash"] == b64e(before.digest())
    head = bob.log_head(group.id)

    alice_device = roster.entries[4]
    assert alice_device.op == "add_device"
    evil = b64e(public_bytes(new_signing_key()))

    def swap_key(entry: dict[str, Any]) -> dict[str, Any]:
        return {**entry, "body": {**entry["body"], "device_key": evil}}

    await operator_db.edit_log_entry(group.id, 4, swap_key)
    with pytest.raises(
        LogChainError, match=exactly("entry seq 5: prev does not match the previous entry's hash")
    ):
        await bob.roster(group.id)
    assert bob.log_head(group.id) == head

    await operator_db.edit_log_entry(group.id, 4, lambda _: alice_device.to_json())
    assert (await bob.roster(group.id)).head_seq == roster.head_seq
    seq = await coord.send(group.id, "after the edit was undone", kind="alert")
    assert outcomes(await bob.receive())[seq] == (True, "after the edit was undone", None)
