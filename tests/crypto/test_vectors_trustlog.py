"""The trust-log known-answer vectors (scripts/vectors_trustlog.py): every positive value is
recomputed from the stored inputs, and every negative input is refused with the exact error
class and message recorded."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from cordon_client.crypto import LogEntry, verify_log
from cordon_client.crypto._encoding import b64d
from cordon_client.crypto.invite import (
    Invitation,
    check_join_mac,
    check_link_code,
    join_mac,
    join_mac_input,
    link_code,
    link_hash,
    member_qr_payload,
    member_safety_number,
)
from cordon_client.crypto.roster import (
    envelope_epoch_seq,
    root_attested_prefix,
    verify_fork_proof,
)
from cordon_client.exceptions import CordonClientError

VECTORS = json.loads((Path(__file__).parent / "vectors" / "trustlog.json").read_text())


def _refused(expected: dict[str, Any], call: Any) -> None:
    with pytest.raises(CordonClientError) as info:
        call()
    assert type(info.value).__name__ == expected["error"]
    assert str(info.value) == expected["message"]


def test_invitation_and_join_mac() -> None:
    """Root hash, invitation id, MAC key, text and join MAC match byte for byte."""
    v = VECTORS["invitation"]
    gid, root = uuid.UUID(v["group_id"]), b64d(v["root_key"])
    inv = Invitation.create(gid, root, bytes.fromhex(v["secret"]))
    assert inv.root_hash.hex() == v["root_hash"]
    assert inv.invitation_id.hex() == v["invitation_id"]
    assert inv.mac_key().hex() == v["mac_key"]
    assert inv.to_text() == v["text"] and Invitation.from_text(v["text"]) == inv
    j = v["join"]
    member, key = uuid.UUID(j["member_id"]), b64d(j["member_key"])
    assert join_mac_input(inv, member, key).hex() == j["mac_input"]
    assert join_mac(inv, member, key).hex() == j["mac"]


def test_invitation_negative() -> None:
    """Swapped key, other member, other root, truncated text: each refused exactly."""
    v = VECTORS["invitation"]
    gid = uuid.UUID(v["group_id"])
    inv = Invitation.from_text(v["text"])
    for case in v["negative"]:
        if "mac" in case:
            args = (
                uuid.UUID(case["member_id"]),
                b64d(case["member_key"]),
                bytes.fromhex(case["mac"]),
            )
            _refused(case, lambda a=args: check_join_mac(inv, *a))
        elif "root_key" in case:
            _refused(case, lambda c=case: inv.check_root(gid, b64d(c["root_key"])))
        else:
            _refused(case, lambda c=case: Invitation.from_text(c["text"]))


def test_member_fingerprint() -> None:
    """The safety number and QR payload of a member key."""
    v = VECTORS["member_fingerprint"]
    member, key = uuid.UUID(v["member_id"]), b64d(v["member_key"])
    assert member_safety_number(member, key) == v["safety_number"]
    assert member_qr_payload(member, key) == v["qr_payload"]


def test_link_code() -> None:
    """Link hash and code; a swapped key or another device is refused exactly."""
    v = VECTORS["link_code"]
    member, device, key = (
        uuid.UUID(v["member_id"]),
        uuid.UUID(v["device_id"]),
        b64d(v["device_key"]),
    )
    assert link_hash(member, device, key).hex() == v["link_hash"]
    assert link_code(member, device, key) == v["code"]
    for case in v["negative"]:
        args = (member, uuid.UUID(case["device_id"]), b64d(case["device_key"]))
        _refused(case, lambda a=args: check_link_code(v["code"], *a))


def test_log_entries_of_every_op() -> None:
    """Signed bytes, entry hashes, epoch, roster digest and removal seqs of a log holding
    every op, rotation, revocation and removal included."""
    v = VECTORS["log"]
    entries = [LogEntry.from_json(e["entry"]) for e in v["entries"]]
    for entry, expected in zip(entries, v["entries"], strict=True):
        assert entry.signed_bytes().hex() == expected["signed_bytes"]
        assert entry.entry_hash().hex() == expected["entry_hash"]
    roster = verify_log(b64d(v["root_key"]), uuid.UUID(v["group_id"]), entries)
    assert roster.epoch_id.hex() == v["epoch_id"]
    assert roster.digest().hex() == v["roster_digest"]
    assert list(roster.removal_seqs) == v["removal_seqs"]
    assert sorted(str(m) for m in roster.members) == v["members"]


def test_log_negative() -> None:
    """Tampered logs (bad signature, injected member, gap, old version, rollback, fork)."""
    v = VECTORS["log"]
    root, gid = b64d(v["root_key"]), uuid.UUID(v["group_id"])
    for case in v["negative"]:

        def run(c: dict[str, Any] = case) -> object:
            known = [LogEntry.from_json(k) for k in c.get("known_head", [])]
            entries = [LogEntry.from_json(e) for e in c["entries"]]
            return verify_log(root, gid, entries, known_head=known or None)

        _refused(case, run)


def test_fork_proof() -> None:
    """A valid proof verifies to its two entries; forged ones are refused exactly."""
    v = VECTORS["fork_proof"]
    root, gid = b64d(v["root_key"]), uuid.UUID(v["group_id"])
    first, second = verify_fork_proof(root, gid, v["proof"])
    assert [first.entry_hash().hex(), second.entry_hash().hex()] == v["entry_hashes"]
    for case in v["negative"]:
        where = uuid.UUID(case.get("group_id", v["group_id"]))
        _refused(case, lambda c=case, w=where: verify_fork_proof(root, w, c["proof"]))


def test_epoch_window() -> None:
    """Which named heads a receiver accepts: the head, a recent one with no removal after it;
    not one before a removal, one beyond the window, or an unknown one."""
    v = VECTORS["epoch_window"]
    entries = [LogEntry.from_json(e) for e in v["entries"]]
    roster = verify_log(b64d(v["root_key"]), uuid.UUID(v["group_id"]), entries)
    for case in v["cases"]:
        epoch = bytes.fromhex(case["epoch_id"])
        if "accepted_seq" in case:
            assert envelope_epoch_seq(roster, epoch) == case["accepted_seq"]
        else:
            _refused(case, lambda e=epoch: envelope_epoch_seq(roster, e))


def test_root_checkpoint() -> None:
    """A forged signature before the root's checkpoint is accepted (the root attested the
    prefix), with the recorded epoch and digest; every negative is refused exactly."""
    v = VECTORS["root_checkpoint"]
    root, gid = b64d(v["root_key"]), uuid.UUID(v["group_id"])
    entries = [LogEntry.from_json(e) for e in v["entries"]]
    assert root_attested_prefix(root, entries) == v["attested_prefix"]
    roster = verify_log(root, gid, entries)
    assert roster.epoch_id.hex() == v["epoch_id"]
    assert roster.digest().hex() == v["roster_digest"]
    for case in v["negative"]:

        def run(c: dict[str, Any] = case) -> object:
            return verify_log(root, gid, [LogEntry.from_json(e) for e in c["entries"]])

        _refused(case, run)
