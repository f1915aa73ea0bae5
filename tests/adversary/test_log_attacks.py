"""The operator attacks member keys, device keys and the log (issue 11, items 1–5).

Each test plays the malicious operator with the harness (the rewriting proxy for one client,
or direct database edits) against the real SDK and CLI, asserts the exact refusal, and shows
that the client keeps working for everything else.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from cordon_client.account.client import now_ms
from cordon_client.crypto import LogWriter, new_signing_key, public_bytes
from cordon_client.crypto._encoding import b64e
from cordon_client.crypto.roster import verify_fork_proof
from cordon_client.exceptions import (
    BindingError,
    DeviceKeyMismatchError,
    ForkError,
    ForkProofError,
    GroupFrozenError,
)
from sqlalchemy import insert, update

from app.core.types import utcnow
from app.invitations.models import JoinRequest
from app.keys.models import GroupLogEntry
from tests.adversary.expect import exactly, outcomes
from tests.adversary.operator_db import OperatorDB
from tests.adversary.party import PASSPHRASE, Party
from tests.adversary.proxy import RewritingProxy


def _mac_refusal(member: uuid.UUID, key: bytes) -> str:
    return exactly(
        f"join request of member {member}: the MAC does not cover member key {b64e(key)} "
        "(substituted key or wrong invitation)"
    )


async def test_member_key_swapped_during_group_add_is_refused(
    party: Party, proxy: RewritingProxy, operator_db: OperatorDB
) -> None:
    """The server swaps the member key in the join request (in flight, then in its
    database): the invitation MAC refuses it, nothing is signed, others are still admitted."""
    group = await party.group(("alice", "bob"), proxied=("coordinator",), joined=())
    coord, alice_u = group.coordinator, group.users["alice"]
    await group["alice"].request_join(await coord.invite(group.id, for_user=alice_u.username))
    head = coord.log_head(group.id)
    evil = public_bytes(new_signing_key())

    def swap(body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for request in body:
            request["member_key"] = b64e(evil)
        return body

    rule = proxy.rewrite_json("GET", f"/api/v1/groups/{group.id}/join-requests", swap)
    with pytest.raises(BindingError, match=_mac_refusal(alice_u.id, evil)):
        await coord.add_member(group.id, alice_u.username)
    rule.remove()
    assert coord.log_head(group.id) == head
    assert alice_u.id not in (await coord.roster(group.id)).members

    await operator_db.execute(
        update(JoinRequest).where(JoinRequest.user_id == alice_u.id).values(member_key=evil)
    )
    with pytest.raises(BindingError, match=_mac_refusal(alice_u.id, evil)):
        await coord.add_member(group.id, alice_u.username)

    bob = group["bob"]
    await party.admit(coord, bob, group.id, group.users["bob"].username)
    await bob.join_group(group.id, expected_fingerprint=group.code)
    seq = await coord.send(group.id, "bob was admitted", kind="alert")
    assert outcomes(await bob.receive())[seq] == (True, "bob was admitted", None)


async def test_device_key_swapped_during_certification_is_refused(
    party: Party, proxy: RewritingProxy, operator_db: OperatorDB
) -> None:
    """The link code commits to the new device's key: a substitute served in flight or
    stored in the directory is refused and nothing is certified; the real key is, once the
    directory is honest, and the new device reads the next alert."""
    group = await party.group(("alice",), proxied=("alice",))
    alice = group["alice"]
    phone = await party.device(group.users["alice"], "alice-phone")
    phone_id = phone.state.require()[1].device_id
    code = phone.link_code()
    evil = public_bytes(new_signing_key())
    refusal = exactly(
        f"device {phone_id}: the served signing key {b64e(evil)} is not the key its link "
        "code commits to"
    )

    def swap(body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for device in body:
            if device["device_id"] == str(phone_id):
                device["signing_key"] = b64e(evil)
        return body

    rule = proxy.rewrite_json("GET", f"/api/v1/groups/{group.id}/keys", swap)
    with pytest.raises(BindingError, match=refusal):
        await alice.certify_device(group.id, code)
    rule.remove()
    real = (await operator_db.device(phone_id)).signing_key
    await operator_db.replace_device_key(phone_id, signing_key=evil)
    with pytest.raises(BindingError, match=refusal):
        await alice.certify_device(group.id, code)
    assert (await alice.roster(group.id)).device(phone_id) is None

    await operator_db.replace_device_key(phone_id, signing_key=real)
    assert await alice.certify_device(group.id, code) == phone_id
    await phone.join_group(group.id, expected_fingerprint=group.code)
    seq = await group.coordinator.send(group.id, "to both devices", kind="alert")
    assert outcomes(await phone.receive())[seq] == (True, "to both devices", None)


async def _insert_entries(operator_db: OperatorDB, entries: list[Any]) -> None:
    """Store signed entries directly, bypassing the server's append checks."""
    await operator_db.execute(
        insert(GroupLogEntry).values(
            [
                {
                    "id": uuid.uuid4(),
                    "group_id": e.group_id,
                    "seq": e.seq,
                    "op": e.op,
                    "entry_hash": e.entry_hash(),
                    "entry_json": json.dumps(e.to_json()),
                    "created_at": utcnow(),
                }
                for e in entries
            ]
        )
    )


async def test_a_log_certifying_another_key_for_my_device_id_is_refused(
    party: Party, operator_db: OperatorDB
) -> None:
    """The v1 attack's outcome: the log certifies the operator's key under the new phone's
    id. The phone refuses to act on that log; the first device revokes the entry and goes on."""
    group = await party.group(("alice",))
    alice = group["alice"]
    phone = await party.device(group.users["alice"], "alice-phone")
    phone_id = phone.state.require()[1].device_id
    real = public_bytes(phone.state.require()[1].signing_key)
    member_key = alice.state.require()[1].member_key
    assert member_key is not None
    evil = public_bytes(new_signing_key())
    entry = LogWriter(group.id, list((await alice.roster(group.id)).entries)).add_device(
        member_key, group.users["alice"].id, phone_id, evil, now_ms()
    )
    await _insert_entries(operator_db, [entry])
    with pytest.raises(
        DeviceKeyMismatchError,
        match=exactly(
            f"group {group.id}: log entry seq {entry.seq} certifies key {b64e(evil)} for this "
            f"device ({phone_id}), but its key is {b64e(real)}: refusing to act on this log"
        ),
    ):
        await phone.join_group(group.id, expected_fingerprint=group.code)

    await alice.revoke_device(group.id, phone_id)
    seq = await group.coordinator.send(group.id, "the first device still reads", kind="alert")
    assert outcomes(await alice.receive())[seq] == (True, "the first device still reads", None)


async def test_501_entry_log_with_a_removal_at_entry_500_is_read_and_honoured(
    party: Party, proxy: RewritingProxy, operator_db: OperatorDB
) -> None:
    """Read page by page to its head (the proxy cuts pages to 200 entries), the removal at
    seq 500 is honoured by coordinator and member: the removed member cannot read the next
    alert, and the log keeps growing (no `keys.log_out_of_order`)."""
    group = await party.group(
        ("alice", "bob", "carol"), proxied=("coordinator", "alice", "bob"), joined=("alice", "bob")
    )
    coord, alice, bob = group.coordinator, group["alice"], group["bob"]
    first = await coord.send(group.id, "before the removal", kind="alert")
    assert outcomes(await alice.receive())[first] == (True, "before the removal", None)
    root = coord.state.root_key(group.id)
    assert root is not None
    writer = LogWriter(group.id, list((await coord.roster(group.id)).entries))
    known = len(writer.entries)
    while len(writer.entries) < 500:
        writer.add_member(root, uuid.uuid4(), public_bytes(new_signing_key()), "member", now_ms())
    assert writer.remove_member(root, group.users["alice"].id, now_ms()).seq == 500
    await _insert_entries(operator_db, writer.entries[known:])

    def small_pages(body: dict[str, Any]) -> dict[str, Any]:
        body["items"] = body["items"][:200]
        return body

    pages = proxy.rewrite_json("GET", f"/api/v1/groups/{group.id}/log", small_pages)
    roster = await coord.roster(group.id)
    assert roster.head_seq == 500 and group.users["alice"].id not in roster.members
    assert pages.hits == 3
    after = await coord.send(group.id, "after the removal", kind="alert")
    assert outcomes(await bob.receive())[after] == (True, "after the removal", None)
    verified, content, error = outcomes(await alice.receive())[after]
    assert (verified, content) == (False, None)
    assert re.fullmatch(  # removed: she may not even ask for the chain (KEY_REQUEST, §6.3)
        f"no sender key for chain [0-9a-f-]{{36}} of device {group.device_id('coordinator')}; "
        r"could not ask the sender to re-share it "
        r"\(this device has been revoked and may not send\)",
        error or "",
    )
    assert group.users["alice"].id not in (await alice.roster(group.id)).members
    carol = group["carol"]
    await party.admit(coord, carol, group.id, group.users["carol"].username)
    await carol.join_group(group.id, expected_fingerprint=group.code)
    assert (await coord.roster(group.id)).head_seq == 502


def _cordon(home: Path, server: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`cordon ARGS` in a new OS process, as after a restart."""
    env = {**os.environ, "CORDON_HOME": str(home), "CORDON_PASSPHRASE": PASSPHRASE}
    env |= {"CORDON_SERVER": server, "COLUMNS": "250"}
    return subprocess.run(
        [sys.executable, "-m", "cordon_client.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


async def test_rollback_after_restart_is_refused_by_a_new_cli_process(
    party: Party, operator_db: OperatorDB
) -> None:
    """After alice verified bob's removal and her process ended, the operator deletes the
    removal: a new `cordon` process refuses the older log naming both seqs, and sends again
    once the log is back."""
    group = await party.group(("alice", "bob"))
    await group.coordinator.remove_member(group.id, group.users["bob"].id)
    head = (await group["alice"].roster(group.id)).head_seq
    await party.cli("alice")  # closes alice's SDK client: her head is persisted
    removal = await operator_db.delete_log_entry(group.id, head)
    assert removal["op"] == "remove_member"

    home = party.home / "alice"
    refused = _cordon(home, party.server.base, "send", str(group.id), "to the old roster")
    assert refused.returncode == 1 and "Traceback" not in refused.stdout + refused.stderr
    epoch = json.loads(removal["entry_json"])
    assert epoch["seq"] == head
    assert (
        f"group {group.id}: rollback refused: the server's log ends at seq {head - 1}, but "
        f"this device already verified seq {head} (epoch {removal['entry_hash'].hex()[:16]})"
    ) in refused.stderr.splitlines()[0], refused.stderr  # one line on stderr (cli.errors)
    assert len(refused.stderr.splitlines()) == 1 and refused.stdout == "", refused.stderr

    await operator_db.insert_log_entry(removal)
    sent = _cordon(home, party.server.base, "send", str(group.id), "to the current roster")
    assert sent.returncode == 0, sent.stdout + sent.stderr


async def test_coordinator_signed_fork_is_reported_with_a_proof_and_freezes_the_group(
    party: Party, operator_db: OperatorDB
) -> None:
    """A different coordinator-signed entry at a seq alice verified: a fork with a proof
    anyone verifies from the root, the group frozen (across processes) until alice resolves
    it with the head her coordinator confirms; a proof forged with a member key is refused."""
    group = await party.group(("alice", "bob"))
    coord, alice, bob = group.coordinator, group["alice"], group["bob"]
    honest = (await alice.roster(group.id)).entries
    root = coord.state.root_key(group.id)
    assert root is not None
    other = LogWriter(group.id, list(honest[:-1])).set_role(
        root, group.users["bob"].id, "coordinator", now_ms()
    )
    await operator_db.edit_log_entry(group.id, other.seq, lambda _: other.to_json())

    reason = (
        f"group {group.id}: fork detected at seq {other.seq}: the server's log holds entry "
        f"{other.entry_hash().hex()[:16]} where this device verified "
        f"{honest[-1].entry_hash().hex()[:16]}; the group is frozen on this device until resolved"
    )
    with pytest.raises(ForkError, match=exactly(reason)) as fork:
        await alice.roster(group.id)
    root_key = public_bytes(root)
    first, second = verify_fork_proof(root_key, group.id, json.loads(json.dumps(fork.value.proof)))
    assert (first, second) == (honest[-1], other)
    with pytest.raises(GroupFrozenError, match=f"^group {group.id} is frozen on this device: "):
        await alice.send(group.id, "not while frozen", kind="alert")

    cli = await party.cli("alice")
    frozen = await cli.run("send", str(group.id), "still frozen", ok=False)
    assert frozen.exit_code == 1 and f"group {group.id} is frozen on this device" in frozen.output
    printed = await cli.run("group", "fork-proof", str(group.id))
    assert verify_fork_proof(root_key, group.id, json.loads(printed.output)) == (first, second)

    member_key = bob.state.require()[1].member_key
    assert member_key is not None
    by_member = LogWriter(group.id, list(honest[:-1])).remove_member(
        member_key, group.users["alice"].id, now_ms()
    )
    forged = {**fork.value.proof, "entries": [honest[-1].to_json(), by_member.to_json()]}
    with pytest.raises(
        ForkProofError,
        match=exactly(
            f"fork proof: entry 2 at seq {other.seq} does not extend the verified prefix: "
            f"seq {other.seq} (remove_member): signer is not a coordinator key"
        ),
    ):
        verify_fork_proof(root_key, group.id, forged)

    await operator_db.edit_log_entry(group.id, other.seq, lambda _: honest[-1].to_json())
    await coord.roster(group.id)
    confirmed = coord.log_head(group.id)
    assert confirmed is not None
    resolved = await cli.run("group", "resolve-fork", str(group.id), confirmed[1])
    assert f"verified head is now seq {confirmed[0]}" in resolved.output
    sent = await cli.run("send", str(group.id), "after the fork was resolved")
    seq = int(sent.output.split("#")[1])
    assert outcomes(await bob.receive())[seq] == (True, "after the fork was resolved", None)


async def test_admit_certifies_only_join_requests_whose_mac_verifies(
    party: Party, operator_db: OperatorDB
) -> None:
    """Three invitations answered; the operator swaps one stored key: `admit` certifies the
    two bound keys, refuses the third by name, and the admitted read the next alert."""
    group = await party.group(("a", "b", "c"), joined=())
    coord = group.coordinator
    for name, user in group.users.items():
        await group[name].request_join(await coord.invite(group.id, for_user=user.username))
    victim = group.users["c"]
    evil = public_bytes(new_signing_key())
    await operator_db.execute(
        update(JoinRequest).where(JoinRequest.user_id == victim.id).values(member_key=evil)
    )
    assert sorted(await coord.admit_all(group.id)) == sorted(
        [
            (group.users["a"].username, "added (invitation)"),
            (group.users["b"].username, "added (invitation)"),
            (
                victim.username,
                f"refused: join request of member {victim.id}: the MAC does not cover member "
                f"key {b64e(evil)} (substituted key or wrong invitation)",
            ),
        ]
    )
    assert victim.id not in (await coord.roster(group.id)).members
    for name in ("a", "b"):
        await group[name].join_group(group.id, expected_fingerprint=group.code)
    seq = await coord.send(group.id, "to the admitted", kind="alert")
    for name in ("a", "b"):
        assert outcomes(await group[name].receive())[seq] == (True, "to the admitted", None)


async def test_safety_number_fallback_refuses_a_swapped_directory_key(
    party: Party, proxy: RewritingProxy, operator_db: OperatorDB
) -> None:
    """Without an invitation the coordinator must pass the member's safety number (or QR
    payload): a key swapped in flight or in the directory is refused; the real one is
    certified and reported as bound by `fingerprint`."""
    group = await party.group(("alice",), proxied=("coordinator",), joined=())
    coord, alice, alice_u = group.coordinator, group["alice"], group.users["alice"]
    number, qr = alice.member_fingerprint()
    with pytest.raises(
        BindingError,
        match=exactly(
            f"no join request from {alice_u.id}: send them an invitation (`cordon group "
            "invite`), or compare their safety number and pass it with --fingerprint"
        ),
    ):
        await coord.add_member(group.id, alice_u.id)
    evil = public_bytes(new_signing_key())
    refusal = exactly(
        f"member {alice_u.id}: the directory's key {b64e(evil)} does not match the fingerprint "
        "compared out of band"
    )
    await coord._call(  # noqa: SLF001  (on the server first, so the directory lists her key)
        "POST", f"/api/v1/groups/{group.id}/members", json={"user_id": str(alice_u.id)}
    )

    def swap(body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in body:
            item["member_key"] = b64e(evil)
        return body

    rule = proxy.rewrite_json("GET", f"/api/v1/groups/{group.id}/member-keys", swap)
    with pytest.raises(BindingError, match=refusal):
        await coord.add_member(group.id, alice_u.id, member_fingerprint=number)
    rule.remove()
    await operator_db.replace_member_key(alice_u.id, evil)
    with pytest.raises(BindingError, match=refusal):
        await coord.add_member(group.id, alice_u.id, member_fingerprint=qr)
    real = public_bytes(alice.state.require()[1].member_key)  # type: ignore[arg-type]
    await operator_db.replace_member_key(alice_u.id, real)
    assert await coord.add_member(group.id, alice_u.id, member_fingerprint=qr) == "fingerprint"
    await alice.join_group(group.id, expected_fingerprint=group.code)
    seq = await coord.send(group.id, "bound by safety number", kind="alert")
    assert outcomes(await alice.receive())[seq] == (True, "bound by safety number", None)
