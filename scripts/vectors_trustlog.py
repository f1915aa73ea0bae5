"""Known-answer vectors for the trust log (PROTOCOL.md §3.4–3.7, §4): invitations, join MACs,
member safety numbers, device link codes, log entries of every op (removal and rotation
included), fork proofs, root-attested checkpoints and the epoch grace window, each with
negative vectors (tampered input and the exact expected error).

Deterministic (seeds -> keys, fixed times and secrets). Run from the repository root:
    .venv/bin/python scripts/vectors_trustlog.py
Writes tests/crypto/vectors/trustlog.json, checked by tests/crypto/test_vectors_trustlog.py.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cordon_client.crypto import (
    LogEntry,
    LogWriter,
    public_bytes,
    signing_key_from_seed,
    verify_log,
)
from cordon_client.crypto._encoding import b64e
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
    EPOCH_GRACE_ENTRIES,
    envelope_epoch_seq,
    fork_proof,
    verify_fork_proof,
)
from cordon_client.exceptions import CordonClientError

OUT = Path(__file__).resolve().parent.parent / "tests" / "crypto" / "vectors" / "trustlog.json"
T = 1_700_000_000_000
GROUP = uuid.UUID("00000000-0000-4000-8000-00000000c0de")
MEMBER = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
OTHER = uuid.UUID("00000000-0000-4000-8000-0000000000b2")
DEVICE = uuid.UUID("00000000-0000-4000-8000-0000000000d1")
DEVICE2 = uuid.UUID("00000000-0000-4000-8000-0000000000d2")
SECRET = bytes(range(16))


def key(name: str):  # type: ignore[no-untyped-def]
    """An Ed25519 key from a named seed, so every vector is reproducible."""
    return signing_key_from_seed(hashlib.sha256(b"cordon-vector-seed:" + name.encode()).digest())


def error_of(call: Callable[[], object]) -> dict[str, str]:
    """The exact refusal a tampered input must produce."""
    try:
        call()
    except CordonClientError as exc:
        return {"error": type(exc).__name__, "message": str(exc)}
    raise AssertionError("a negative vector was accepted")


def invitation_vectors() -> dict[str, Any]:
    root = public_bytes(key("root"))
    inv = Invitation.create(GROUP, root, SECRET)
    member_key = public_bytes(key("member"))
    mac = join_mac(inv, MEMBER, member_key)
    swapped = public_bytes(key("operator"))
    other_root = public_bytes(key("other-root"))
    return {
        "group_id": str(GROUP),
        "root_key": b64e(root),
        "secret": SECRET.hex(),
        "root_hash": inv.root_hash.hex(),
        "invitation_id": inv.invitation_id.hex(),
        "mac_key": inv.mac_key().hex(),
        "text": inv.to_text(),
        "join": {
            "member_id": str(MEMBER),
            "member_key": b64e(member_key),
            "mac_input": join_mac_input(inv, MEMBER, member_key).hex(),
            "mac": mac.hex(),
        },
        "negative": [
            {
                "case": "server swapped the member key",
                "member_id": str(MEMBER),
                "member_key": b64e(swapped),
                "mac": mac.hex(),
                **error_of(lambda: check_join_mac(inv, MEMBER, swapped, mac)),
            },
            {
                "case": "MAC presented for another member id",
                "member_id": str(OTHER),
                "member_key": b64e(member_key),
                "mac": mac.hex(),
                **error_of(lambda: check_join_mac(inv, OTHER, member_key, mac)),
            },
            {
                "case": "the log's root is not the invitation's",
                "root_key": b64e(other_root),
                **error_of(lambda: inv.check_root(GROUP, other_root)),
            },
            {
                "case": "truncated invitation text",
                "text": inv.to_text()[:-1],
                **error_of(lambda: Invitation.from_text(inv.to_text()[:-1])),
            },
        ],
    }


def fingerprint_vectors() -> dict[str, Any]:
    member_key = public_bytes(key("member"))
    return {
        "member_id": str(MEMBER),
        "member_key": b64e(member_key),
        "safety_number": member_safety_number(MEMBER, member_key),
        "qr_payload": member_qr_payload(MEMBER, member_key),
    }


def link_vectors() -> dict[str, Any]:
    device_key = public_bytes(key("phone"))
    code = link_code(MEMBER, DEVICE, device_key)
    swapped = public_bytes(key("operator"))
    return {
        "member_id": str(MEMBER),
        "device_id": str(DEVICE),
        "device_key": b64e(device_key),
        "link_hash": link_hash(MEMBER, DEVICE, device_key).hex(),
        "code": code,
        "negative": [
            {
                "case": "server swapped the device key",
                "device_id": str(DEVICE),
                "device_key": b64e(swapped),
                **error_of(lambda: check_link_code(code, MEMBER, DEVICE, swapped)),
            },
            {
                "case": "code of another device",
                "device_id": str(DEVICE2),
                "device_key": b64e(device_key),
                **error_of(lambda: check_link_code(code, MEMBER, DEVICE2, device_key)),
            },
        ],
    }


def full_log() -> list[LogEntry]:
    """Every op once: join, device, role, grant, checkpoint, rotation, revocation, removal."""
    root, member, other = key("root"), key("member"), key("other")
    w = LogWriter(GROUP)
    w.genesis(root, T)
    w.add_member(root, MEMBER, public_bytes(member), "member", T + 1)
    w.add_device(member, MEMBER, DEVICE, public_bytes(key("phone")), T + 2)
    w.add_member(root, OTHER, public_bytes(other), "member", T + 3)
    w.add_device(other, OTHER, DEVICE2, public_bytes(key("laptop")), T + 4)
    w.set_role(root, OTHER, "coordinator", T + 5)
    w.grant_history(root, MEMBER, T + 6)
    w.checkpoint(root, verify_log(public_bytes(root), GROUP, w.entries).digest(), T + 7)
    new_member_key = key("member-rotated")
    w.rotate_member_key(member, MEMBER, public_bytes(new_member_key), T + 8)
    w.revoke_device(new_member_key, MEMBER, DEVICE, T + 9)
    w.remove_member(other, MEMBER, T + 10)
    return w.entries


def log_vectors() -> dict[str, Any]:
    entries = full_log()
    root = public_bytes(key("root"))
    roster = verify_log(root, GROUP, entries)
    as_json = [e.to_json() for e in entries]

    def verify(items: list[dict[str, Any]], **kw: Any) -> object:
        return verify_log(root, GROUP, [LogEntry.from_json(i) for i in items], **kw)

    bad_sig = [*as_json[:3], {**as_json[3], "sig": as_json[4]["sig"]}]
    injected = [*as_json[:3]]
    forged = LogWriter(GROUP, entries[:3]).add_member(
        key("member"), OTHER, public_bytes(key("other")), "member", T + 3
    )
    injected.append(forged.to_json())
    known = [e.to_json() for e in entries[-3:]]
    fork_alt = LogWriter(GROUP, entries[:-1]).set_role(key("root"), OTHER, "member", T + 10)
    forked = [*as_json[:-1], fork_alt.to_json()]
    return {
        "root_key": b64e(root),
        "group_id": str(GROUP),
        "entries": [
            {
                "entry": e.to_json(),
                "signed_bytes": e.signed_bytes().hex(),
                "entry_hash": e.entry_hash().hex(),
            }
            for e in entries
        ],
        "epoch_id": roster.epoch_id.hex(),
        "roster_digest": roster.digest().hex(),
        "removal_seqs": list(roster.removal_seqs),
        "members": sorted(str(m) for m in roster.members),
        "negative": [
            {
                "case": "signature of another entry",
                "entries": bad_sig,
                **error_of(lambda: verify(bad_sig)),
            },
            {
                "case": "member key signs add_member",
                "entries": injected,
                **error_of(lambda: verify(injected)),
            },
            {
                "case": "entry 5 dropped",
                "entries": as_json[:5] + as_json[6:],
                **error_of(lambda: verify(as_json[:5] + as_json[6:])),
            },
            {
                "case": "version 1 entry",
                "entries": [{**as_json[0], "v": 1}],
                **error_of(lambda: verify([{**as_json[0], "v": 1}])),
            },
            {
                "case": "rollback below the persisted head",
                "entries": as_json[:-2],
                "known_head": known,
                **error_of(
                    lambda: verify(as_json[:-2], known_head=[LogEntry.from_json(k) for k in known])
                ),
            },
            {
                "case": "another coordinator-signed entry at the persisted head (fork)",
                "entries": forked,
                "known_head": known,
                **error_of(
                    lambda: verify(forked, known_head=[LogEntry.from_json(k) for k in known])
                ),
            },
        ],
    }


def fork_vectors() -> dict[str, Any]:
    entries = full_log()[:6]
    root = public_bytes(key("root"))
    alt = LogWriter(GROUP, entries[:-1]).set_role(key("root"), MEMBER, "coordinator", T + 5)
    proof = fork_proof(entries[:-1], entries[-1], alt)
    first, second = verify_fork_proof(root, GROUP, proof)
    by_member = LogWriter(GROUP, entries[:-1]).set_role(key("member"), MEMBER, "coordinator", T + 5)
    forged = {**proof, "entries": [entries[-1].to_json(), by_member.to_json()]}
    same = {**proof, "entries": [entries[-1].to_json(), entries[-1].to_json()]}
    other_group = uuid.UUID("00000000-0000-4000-8000-00000000beef")
    return {
        "root_key": b64e(root),
        "group_id": str(GROUP),
        "proof": proof,
        "entry_hashes": [first.entry_hash().hex(), second.entry_hash().hex()],
        "negative": [
            {
                "case": "second entry signed by a member key",
                "proof": forged,
                **error_of(lambda: verify_fork_proof(root, GROUP, forged)),
            },
            {
                "case": "the same entry twice",
                "proof": same,
                **error_of(lambda: verify_fork_proof(root, GROUP, same)),
            },
            {
                "case": "checked against another group",
                "group_id": str(other_group),
                "proof": proof,
                **error_of(lambda: verify_fork_proof(root, other_group, proof)),
            },
        ],
    }


def checkpoint_vectors() -> dict[str, Any]:
    """§4.4 root-attested checkpoint: entry 6 carries another entry's signature, and the root's
    checkpoint at seq 7 attests the prefix, so the log is accepted; refused without the
    checkpoint, with a coordinator's checkpoint instead, with a wrong roster_hash, and when an
    attested entry is edited."""
    root, other = key("root"), key("other")
    prefix = LogWriter(GROUP, full_log()[:6])
    grant = prefix.grant_history(root, MEMBER, T + 6)
    digest = verify_log(public_bytes(root), GROUP, prefix.entries).digest()
    forged = LogEntry.from_json({**grant.to_json(), "sig": b64e(prefix.entries[5].sig)})
    base = [*prefix.entries[:6], forged]
    good = LogWriter(GROUP, base)
    good.checkpoint(root, digest, T + 7)
    good.add_member(root, uuid.UUID(int=0xC0), public_bytes(key("after")), "member", T + 8)
    roster = verify_log(public_bytes(root), GROUP, good.entries)
    by_other = [*base, LogWriter(GROUP, base).checkpoint(other, digest, T + 7)]
    wrong_hash = [*base, LogWriter(GROUP, base).checkpoint(root, bytes(32), T + 7)]
    as_json = [e.to_json() for e in good.entries]
    swapped = b64e(public_bytes(key("swapped")))
    edited_device = {**as_json[2]["body"], "device_key": swapped}
    edited = [*as_json[:2], {**as_json[2], "body": edited_device}, *as_json[3:]]

    def verify(items: list[dict[str, Any]]) -> object:
        return verify_log(public_bytes(root), GROUP, [LogEntry.from_json(i) for i in items])

    cases = {
        "no checkpoint: the forged entry 6 is verified": as_json[:7],
        "checkpoint signed by another coordinator (no skip)": [e.to_json() for e in by_other],
        "root checkpoint with a wrong roster_hash": [e.to_json() for e in wrong_hash],
        "entry 2 edited before the root checkpoint": edited,
        "entry 8 after the root checkpoint with a forged signature": [
            *as_json[:8],
            {**as_json[8], "sig": as_json[7]["sig"]},
        ],
    }
    return {
        "root_key": b64e(public_bytes(root)),
        "group_id": str(GROUP),
        "entries": as_json,
        "attested_prefix": 7,
        "epoch_id": roster.epoch_id.hex(),
        "roster_digest": roster.digest().hex(),
        "negative": [
            {"case": case, "entries": items, **error_of(lambda i=items: verify(i))}
            for case, items in cases.items()
        ],
    }


def epoch_vectors() -> dict[str, Any]:
    root = key("root")
    w = LogWriter(GROUP, full_log()[:5])
    n = 0
    while len(w.entries) < 5 + EPOCH_GRACE_ENTRIES + 2:
        w.add_member(root, uuid.UUID(int=0xF000 + n), public_bytes(key(f"m{n}")), "member", T + 20)
        n += 1
    w.revoke_device(root, OTHER, DEVICE2, T + 30)
    w.add_member(root, uuid.UUID(int=0xFFFF), public_bytes(key("late")), "member", T + 31)
    roster = verify_log(public_bytes(root), GROUP, w.entries)
    cases = []
    head, removal = roster.head_seq, roster.head_seq - 1
    for seq in (head, removal, removal - 1, head - EPOCH_GRACE_ENTRIES - 1):
        epoch = w.entries[seq].entry_hash()
        case: dict[str, Any] = {"epoch_seq": seq, "epoch_id": epoch.hex()}
        try:
            case["accepted_seq"] = envelope_epoch_seq(roster, epoch)
        except CordonClientError as exc:
            case.update(error=type(exc).__name__, message=str(exc))
        cases.append(case)
    unknown = b"\x01" * 32
    cases.append(
        {"epoch_id": unknown.hex(), **error_of(lambda: envelope_epoch_seq(roster, unknown))}
    )
    return {
        "grace_entries": EPOCH_GRACE_ENTRIES,
        "root_key": b64e(public_bytes(root)),
        "group_id": str(GROUP),
        "entries": [e.to_json() for e in w.entries],
        "cases": cases,
    }


def main() -> None:
    vectors = {
        "invitation": invitation_vectors(),
        "member_fingerprint": fingerprint_vectors(),
        "link_code": link_vectors(),
        "log": log_vectors(),
        "fork_proof": fork_vectors(),
        "root_checkpoint": checkpoint_vectors(),
        "epoch_window": epoch_vectors(),
    }
    OUT.write_text(json.dumps(vectors, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT}")  # noqa: T201


if __name__ == "__main__":
    main()
