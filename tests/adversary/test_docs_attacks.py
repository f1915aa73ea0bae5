"""The operator (and members colluding with it) against document keys and history grants
(PROTOCOL.md §8, §9): each attack is refused with its exact reason, nothing is installed, and
the client goes on reading honest items and documents."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from cordon_client._client import Cordon
from cordon_client.account.client import now_ms
from cordon_client.crypto import ContentType, DocumentKey, Recipient
from cordon_client.crypto.history import HistoryGrant
from cordon_client.crypto.stream import create_manifest
from cordon_client.exceptions import ApiError, CategoryMismatchError, UnauthorisedKeyingError
from cordon_client.messaging.history import import_granted
from cordon_client.records.store import sync as domain_sync
from cordon_client.records.view import build_cases, domain_registry

from tests.adversary.expect import exactly, outcomes
from tests.adversary.operator_db import OperatorDB
from tests.adversary.party import Group, Party
from tests.adversary.proxy import RewritingProxy
from tests.templates import samples

KINDS = ("alert", "chat", "library")


async def _sealed(
    client: Cordon,
    group_id: uuid.UUID,
    devices: Sequence[uuid.UUID],
    content_type: ContentType,
    content: bytes,
) -> bytes:
    """A targeted envelope sealed by `client`'s device with the SDK's own session, bypassing
    the SDK's sender-side policy (what a modified client would do)."""
    session = await client._session(group_id, refresh=True)
    prekeys = await client._prekeys(group_id)
    now = now_ms()
    targets: list[Recipient] = session.recipients_for(prekeys, now_ms=now, devices=devices)
    return session.encrypt_targeted(content_type, content, targets, now_ms=now)


async def _smuggle(
    client: Cordon,
    operator_db: OperatorDB,
    group_id: uuid.UUID,
    to_user: uuid.UUID,
    devices: Sequence[uuid.UUID],
    envelope: bytes,
) -> int:
    """The operator stores `envelope` as a `library` item for `devices`, bypassing the
    server's keying gate: a harmless chat post whose row is then rewritten."""
    seq = await client.send(group_id, "cover", kind="chat", to_users=[to_user])
    await operator_db.set_item(
        group_id,
        seq,
        kind="library",
        envelope=envelope,
        client_msg_id=str(uuid.UUID(bytes=envelope[70:86])),
        recipients=[str(d) for d in devices],
    )
    return seq


async def _published(group: Group, tmp_path: Path) -> tuple[uuid.UUID, Path]:
    report = tmp_path / "weekly-newsletter.pdf"
    report.write_bytes(os.urandom(200_000))
    published = await group.coordinator.publish_document(group.id, report, category="newsletter")
    await group["bob"].receive()
    return published.document_id, report


async def test_member_rekeying_a_document_is_refused_by_server_and_client(
    party: Party, operator_db: OperatorDB, tmp_path: Path
):
    group = await party.group(("alice", "bob"), proxied=())
    doc, report = await _published(group, tmp_path)
    alice, bob, bob_dev = group["alice"], group["bob"], group.device_id("bob")
    rekey = DocumentKey(doc, 1, os.urandom(32), os.urandom(32)).to_bytes()
    envelope = await _sealed(alice, group.id, [bob_dev], ContentType.DOCUMENT_KEY, rekey)

    with pytest.raises(ApiError) as refused:  # the server's gate
        await alice._post(
            group.id,
            "library",
            envelope,
            message_id=uuid.UUID(bytes=envelope[70:86]),
            recipients=[bob_dev],
        )
    assert (refused.value.status, refused.value.code) == (403, "library.keying_not_allowed")

    bob_u = group.users["bob"].id
    seq = await _smuggle(alice, operator_db, group.id, bob_u, [bob_dev], envelope)  # bypassed
    honest = await group.coordinator.send(group.id, "next", kind="alert")
    got = outcomes(await bob.receive(), KINDS)
    alice_dev = group.device_id("alice")
    assert got[seq] == (
        False,
        None,
        f"document key: device {alice_dev} belonged to a member, not a coordinator, at that head",
    )
    assert got[honest] == (True, "next", None)
    copy = await bob.download_document(group.id, doc, 1, tmp_path / "copy.pdf")
    assert copy.path.read_bytes() == report.read_bytes()


async def test_a_second_key_for_a_published_version_is_refused(
    party: Party, operator_db: OperatorDB, tmp_path: Path
):
    """Even a coordinator's device cannot replace the key of a version a reader holds, and
    the operator cannot swap in a manifest signed by a member's device."""
    group = await party.group(("alice", "bob"), proxied=())
    doc, report = await _published(group, tmp_path)
    coord, bob, bob_dev = group.coordinator, group["bob"], group.device_id("bob")
    swapped = DocumentKey(doc, 1, os.urandom(32), os.urandom(32)).to_bytes()
    envelope = await _sealed(coord, group.id, [bob_dev], ContentType.DOCUMENT_KEY, swapped)
    seq = await coord._post(
        group.id,
        "library",
        envelope,
        message_id=uuid.UUID(bytes=envelope[70:86]),
        recipients=[bob_dev],
    )
    got = outcomes(await bob.receive(), KINDS)
    assert got[seq] == (
        False,
        None,
        f"document {doc} version 1 already has a different key on this device; "
        "the new one is refused",
    )

    alice = group["alice"]
    session = await alice._session(group.id, refresh=True)
    _, keystore = alice.state.require()
    forged = create_manifest(
        doc_key=os.urandom(32),
        signing_key=keystore.signing_key,
        group_id=group.id,
        document_id=doc,
        version=1,
        uploader_device_id=keystore.device_id,
        ts=1_800_000_000_000,
        name="invoice.pdf",
        media_type="application/pdf",
        category="newsletter",
        epoch_id=session.roster.epoch_id,
    )
    original = (await operator_db.library_version(doc, 1)).manifest
    await operator_db.set_library_version(doc, 1, manifest=forged.to_bytes())
    with pytest.raises(
        UnauthorisedKeyingError,
        match=exactly(
            f"manifest of document {doc} version 1: device {keystore.device_id} belonged to a "
            "member, not a coordinator, at that head"
        ),
    ):
        await bob.download_document(group.id, doc, 1, tmp_path / "forged.pdf")
    assert not (tmp_path / "forged.pdf").exists()
    await operator_db.set_library_version(doc, 1, manifest=original)
    copy = await bob.download_document(group.id, doc, 1, tmp_path / "copy.pdf")
    assert copy.path.read_bytes() == report.read_bytes()


async def test_server_changing_a_document_category_is_refused(
    party: Party, operator_db: OperatorDB, tmp_path: Path
):
    group = await party.group(("bob",), proxied=())
    doc, report = await _published(group, tmp_path)
    await operator_db.set_document(doc, category="right_holder_material")
    with pytest.raises(
        CategoryMismatchError,
        match=exactly(
            f"manifest of document {doc} version 1: the server lists category "
            "'right_holder_material', the manifest signs 'newsletter'"
        ),
    ):
        await group["bob"].download_document(group.id, doc, 1, tmp_path / "copy.pdf")
    assert not (tmp_path / "copy.pdf").exists()
    await operator_db.set_document(doc, category="newsletter")
    copy = await group["bob"].download_document(group.id, doc, 1, tmp_path / "copy.pdf")
    assert copy.path.read_bytes() == report.read_bytes()


async def _case_then_late_joiners(party: Party) -> tuple[Group, int, Cordon, Any, Cordon, Any]:
    """Alice posts a case the coordinator opens; then `late` and `other` join."""
    group = await party.group(("alice",), proxied=())
    case_seq = await group["alice"].send(group.id, samples_case_content(), kind="alert")
    await domain_sync(group.coordinator)  # the coordinator opens it and keeps its key
    joined = []
    for name in ("late", "other"):
        user, _ = await party.user()
        client = await party.device(user, name, proxied=name == "late")
        await party.admit(group.coordinator, client, group.id, user.username)
        await client.join_group(group.id, expected_fingerprint=group.code)
        joined += [client, user]
    return group, case_seq, *joined  # type: ignore[return-value]


def samples_case_content() -> bytes:
    return domain_registry().make_content(
        "seizure_case", "seizure-case", samples.case(), form="simplified"
    )


async def test_forged_history_grants_are_refused(party: Party, operator_db: OperatorDB):
    """A HISTORY_GRANT without a logged grant, or from a plain member's device (smuggled
    past the server's gate), is refused and grants nothing."""
    group, case_seq, late, late_u, _, _ = await _case_then_late_joiners(party)
    coord, alice = group.coordinator, group["alice"]
    late_dev = uuid.UUID(late.state.require()[0].device_id)
    grant = HistoryGrant(late_u.id, "cases", ()).to_bytes()
    unlogged = await _sealed(coord, group.id, [late_dev], ContentType.HISTORY_GRANT, grant)
    seq = await coord._post(
        group.id,
        "library",
        unlogged,
        message_id=uuid.UUID(bytes=unlogged[70:86]),
        recipients=[late_dev],
    )
    got = outcomes(await late.receive(), KINDS)
    assert got[seq] == (False, None, "history grant, but the log holds no history grant for you")

    await coord.grant_history(group.id, late_u.id, "cases")  # logged now, from the coordinator
    from_member = await _sealed(alice, group.id, [late_dev], ContentType.HISTORY_GRANT, grant)
    smuggled = await _smuggle(alice, operator_db, group.id, late_u.id, [late_dev], from_member)
    got = outcomes(await late.receive(), KINDS)
    alice_dev = group.device_id("alice")
    assert got[smuggled] == (
        False,
        None,
        f"history grant from device {alice_dev} of a member, not a coordinator",
    )
    items = await import_granted(late, group.id)  # the coordinator's real grant still works
    assert [(i.seq, i.verified) for i in items] == [(case_seq, True)]


async def test_granted_late_joiner_reads_earlier_cases_and_a_swapped_item_is_refused(
    party: Party, proxy: RewritingProxy
):
    """The granted member reads the earlier case from its ORIGINAL envelope; the ungranted
    one is refused by the server; an envelope the operator swaps is refused by the client."""
    group, case_seq, late, late_u, other, _ = await _case_then_late_joiners(party)
    await group.coordinator.grant_history(group.id, late_u.id, "cases")

    def swap(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raw = bytearray(base64.b64decode(items[0]["envelope"]))
        raw[-1] ^= 1
        items[0]["envelope"] = base64.b64encode(bytes(raw)).decode()
        return items

    rule = proxy.rewrite_json("GET", f"/api/v1/groups/{group.id}/history/cases", swap, times=1)
    await late.receive()
    pending = late.state.secret(f"history-grants:{group.id}")
    refused = await import_granted(late, group.id)
    assert [(i.seq, i.verified, i.error) for i in refused] == [
        (
            case_seq,
            False,
            f"granted item seq {case_seq}: the served envelope is not the one granted",
        )
    ]
    assert rule.hits == 1
    late.state.set_secret(f"history-grants:{group.id}", pending)  # the grant, once more
    items = await domain_sync(late)
    [case] = [c for c in build_cases([i for i in items if i.valid]) if c.seq == case_seq]
    assert case.original.data["reporting_country"] == samples.case()["reporting_country"]

    with pytest.raises(ApiError) as denied:
        await other._call(
            "GET", f"/api/v1/groups/{group.id}/history/cases", params={"seq": case_seq}
        )
    assert (denied.value.status, denied.value.code) == (403, "library.history_not_granted")
    assert [i for i in await domain_sync(other) if i.seq == case_seq] == []


async def test_withheld_granted_items_are_asked_for_again(party: Party, proxy: RewritingProxy):
    """The operator answering the history request with nothing (or an error) loses the late
    joiner nothing: the grant stays pending and the next sync imports the case."""
    group, case_seq, late, late_u, _, _ = await _case_then_late_joiners(party)
    await group.coordinator.grant_history(group.id, late_u.id, "cases")
    path = f"/api/v1/groups/{group.id}/history/cases"
    empty = proxy.respond_json("GET", path, [], times=1)
    assert [i for i in await domain_sync(late) if i.seq == case_seq] == []
    failing = proxy.respond_json("GET", path, {"code": "x"}, status=503, times=1)
    assert [i for i in await domain_sync(late) if i.seq == case_seq] == []
    assert (empty.hits, failing.hits) == (1, 1)
    [item] = [i for i in await domain_sync(late) if i.seq == case_seq]
    assert item.valid and item.type == "seizure_case"
