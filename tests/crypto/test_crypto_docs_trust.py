"""Document keys fixed once written and issued only by coordinators; manifests checked against
the log at the head they name; history grants backed by the log (PROTOCOL.md §8, §9)."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid

import pytest
from cordon_client.crypto import ContentType, DocumentKey, GroupSession
from cordon_client.crypto.authority import check_manifest, open_granted_item
from cordon_client.crypto.history import GrantedItem, HistoryGrant, encode_document_keys
from cordon_client.crypto.stream import create_manifest, new_document_key
from cordon_client.exceptions import (
    CategoryMismatchError,
    DecryptionError,
    DocumentKeyConflictError,
    HistoryGrantError,
    SignatureError,
    UnauthorisedKeyingError,
    UntrustedSenderError,
)

from .helpers import T0, Group, MemberKeys, make_group


def _setup() -> tuple[Group, MemberKeys, MemberKeys, GroupSession, GroupSession, GroupSession]:
    """A coordinator, a plain member and a reader, each with one device and a session."""
    g = make_group(0)
    boss = g.add_member(role="coordinator")
    plain = g.add_member()
    reader = g.add_member()
    sessions = (g.session(next(iter(m.devices))) for m in (boss, plain, reader))
    return g, boss, plain, *sessions  # type: ignore[return-value]


def _only(member: MemberKeys) -> uuid.UUID:
    return next(iter(member.devices))


def _key(document_id: uuid.UUID | None = None, fill: int = 1) -> DocumentKey:
    return DocumentKey(document_id or uuid.uuid4(), 1, bytes([fill]) * 32, bytes([fill]) * 32)


def _to(g: Group, sender: GroupSession, *targets: GroupSession):  # type: ignore[no-untyped-def]
    return sender.recipients_for(
        g.served_prekeys(), now_ms=T0 + 1, devices=[t.device_id for t in targets]
    )


def test_document_key_from_a_plain_member_is_refused() -> None:
    """A member who is not a coordinator cannot key a document, even bypassing the SDK."""
    g, _, _, boss_s, plain_s, reader_s = _setup()
    key = _key()
    with pytest.raises(UntrustedSenderError, match="only a coordinator"):
        plain_s.share_document_key(key, _to(g, plain_s, reader_s), now_ms=T0 + 1)
    forged = plain_s.encrypt_targeted(
        ContentType.DOCUMENT_KEY, key.to_bytes(), _to(g, plain_s, reader_s), now_ms=T0 + 1
    )
    with pytest.raises(UnauthorisedKeyingError, match=r"belonged to a member, not a coordinator"):
        reader_s.decrypt(forged)
    assert reader_s.document_keys == {}
    good = boss_s.share_document_key(key, _to(g, boss_s, reader_s), now_ms=T0 + 2)
    reader_s.decrypt(good)  # the refusal changed nothing: the next item is processed
    assert reader_s.document_keys[(key.document_id, 1)] == key


def test_a_different_key_for_a_held_version_is_refused() -> None:
    """Once a key for (document, version) is held, a different one is refused, the same one
    again is accepted, and a library grant carrying a conflicting key installs nothing."""
    g, _, _, boss_s, _, reader_s = _setup()
    first = _key(fill=1)
    reader_s.decrypt(boss_s.share_document_key(first, _to(g, boss_s, reader_s), now_ms=T0 + 1))
    swapped = dataclasses.replace(first, key=bytes([9]) * 32)
    env = boss_s.share_document_key(swapped, _to(g, boss_s, reader_s), now_ms=T0 + 2)
    with pytest.raises(DocumentKeyConflictError, match=f"document {first.document_id} version 1"):
        reader_s.decrypt(env)
    reader_s.decrypt(boss_s.share_document_key(first, _to(g, boss_s, reader_s), now_ms=T0 + 3))
    assert reader_s.document_keys[(first.document_id, 1)] == first
    g.writer.grant_history(g.root, g.members[2].member_id, T0 + 4)
    boss_s.update_roster(g.roster())
    reader_s.update_roster(g.roster())
    other = _key(fill=5)
    grant = boss_s.encrypt_targeted(
        ContentType.LIBRARY_GRANT,
        encode_document_keys([other, swapped]),
        _to(g, boss_s, reader_s),
        now_ms=T0 + 5,
    )
    with pytest.raises(DocumentKeyConflictError):
        reader_s.decrypt(grant)
    assert (other.document_id, 1) not in reader_s.document_keys


def _manifest(g: Group, uploader: MemberKeys, key: bytes, **changes: object):  # type: ignore[no-untyped-def]
    device = _only(uploader)
    values: dict[str, object] = {
        "doc_key": key,
        "signing_key": uploader.devices[device],
        "group_id": g.group_id,
        "document_id": uuid.UUID(int=7),
        "version": 1,
        "uploader_device_id": device,
        "ts": T0,
        "name": "weekly.pdf",
        "media_type": "application/pdf",
        "category": "newsletter",
        "epoch_id": g.roster().epoch_id,
    }
    values.update(changes)
    return create_manifest(**values)  # type: ignore[arg-type]


def test_manifest_checks() -> None:
    """The uploader must have been a coordinator's device at the manifest's head; the key must
    be the committed one and issued for this manifest; the category must match."""
    g, boss, plain, *_ = _setup()
    raw = new_document_key()
    manifest = _manifest(g, boss, raw)
    key = DocumentKey(manifest.document_id, 1, raw, manifest.manifest_hash())
    roster = g.roster()
    assert check_manifest(roster, manifest, key=key, category="newsletter").device_id == _only(boss)
    with pytest.raises(CategoryMismatchError, match="'training', the manifest signs 'newsletter'"):
        check_manifest(roster, manifest, key=key, category="training")
    by_member = _manifest(g, plain, raw)
    member_key = dataclasses.replace(key, manifest_hash=by_member.manifest_hash())
    with pytest.raises(UnauthorisedKeyingError, match="not a coordinator"):
        check_manifest(roster, by_member, key=member_key)
    other_raw = new_document_key()
    wrong = DocumentKey(manifest.document_id, 1, other_raw, manifest.manifest_hash())
    with pytest.raises(DecryptionError, match="not the one its signed manifest commits to"):
        check_manifest(roster, manifest, key=wrong)
    with pytest.raises(DocumentKeyConflictError, match="issued for another manifest"):
        check_manifest(roster, manifest, key=dataclasses.replace(key, manifest_hash=bytes(32)))
    relabelled = dataclasses.replace(manifest, category="training")
    with pytest.raises(SignatureError):
        check_manifest(roster, relabelled, key=key)


def test_manifest_stays_valid_after_the_uploader_is_demoted() -> None:
    """Role is judged at the head the manifest names: a later demotion does not void it, and a
    manifest naming the later head is refused."""
    g, boss, *_ = _setup()
    raw = new_document_key()
    manifest = _manifest(g, boss, raw)
    key = DocumentKey(manifest.document_id, 1, raw, manifest.manifest_hash())
    g.writer.set_role(g.root, boss.member_id, "member", T0 + 1)
    check_manifest(g.roster(), manifest, key=key)
    later = _manifest(g, boss, raw, epoch_id=g.roster().epoch_id)
    later_key = DocumentKey(later.document_id, 1, raw, later.manifest_hash())
    with pytest.raises(UnauthorisedKeyingError):
        check_manifest(g.roster(), later, key=later_key)


def _history_fixture():  # type: ignore[no-untyped-def]
    """A member posts a case (broadcast) and a pre-notification (targeted) that the coordinator
    receives; then a late joiner arrives."""
    g, boss, plain, boss_s, plain_s, _ = _setup()
    plain_s.rotate_sender_chain(g.recipients(plain_s), now_ms=T0 + 1)
    boss_s.decrypt(plain_s.rotate_sender_chain(_to(g, plain_s, boss_s), now_ms=T0 + 1))
    case = plain_s.encrypt_broadcast(ContentType.ALERT, b"case: 40 kg", now_ms=T0 + 2)
    prenote = plain_s.encrypt_targeted(
        ContentType.PRENOTIFICATION, b"vaccines AWB 123", _to(g, plain_s, boss_s), now_ms=T0 + 2
    )
    got_case, got_prenote = boss_s.decrypt(case), boss_s.decrypt(prenote)
    late = g.add_member()
    boss_s.update_roster(g.roster())
    late_s = g.session(_only(late))
    items = {
        "cases": GrantedItem(
            11,
            _only(plain),
            got_case.header.message_id,
            hashlib.sha256(case).digest(),
            got_case.item_key,
        ),
        "prenotifications": GrantedItem(
            12,
            _only(plain),
            got_prenote.header.message_id,
            hashlib.sha256(prenote).digest(),
            got_prenote.item_key,
        ),
    }
    return g, boss_s, plain, late, late_s, {"cases": case, "prenotifications": prenote}, items


def test_history_grant_opens_original_items() -> None:
    """A granted late joiner verifies the original sender's signature (even after that device
    was revoked) and reads the earlier case and pre-notification."""
    g, boss_s, plain, late, late_s, envelopes, items = _history_fixture()
    for scope in ("cases", "prenotifications"):
        g.writer.grant_history(g.root, late.member_id, T0 + 3, scope)
    boss_s.update_roster(g.roster())
    late_s.update_roster(g.roster())
    g.writer.revoke_device(g.root, plain.member_id, _only(plain), T0 + 4)
    late_s.update_roster(g.roster())
    boss_s.update_roster(g.roster())
    expected = {"cases": b"case: 40 kg", "prenotifications": b"vaccines AWB 123"}
    for scope, envelope in envelopes.items():
        grant = HistoryGrant(late.member_id, scope, (items[scope],))
        env = boss_s.grant_history(grant, _to(g, boss_s, late_s), now_ms=T0 + 5)
        received = late_s.decrypt(env)
        parsed = HistoryGrant.from_bytes(received.content)
        header, sender, content = open_granted_item(late_s.roster, scope, parsed.items[0], envelope)
        assert content == expected[scope] and sender.device_id == _only(plain)


def test_history_grant_refusals() -> None:
    """No logged grant, a plain member's grant, an ungranted scope, a swapped envelope and a
    wrong key are each refused with a message naming what was wrong."""
    g, boss_s, plain, late, late_s, envelopes, items = _history_fixture()
    grant = HistoryGrant(late.member_id, "cases", (items["cases"],))
    with pytest.raises(UntrustedSenderError, match="no cases grant"):
        boss_s.grant_history(grant, _to(g, boss_s, late_s), now_ms=T0 + 3)
    forged = boss_s.encrypt_targeted(
        ContentType.HISTORY_GRANT, grant.to_bytes(), _to(g, boss_s, late_s), now_ms=T0 + 3
    )
    with pytest.raises(HistoryGrantError, match="the log holds no history grant for you"):
        late_s.decrypt(forged)
    g.writer.grant_history(g.root, late.member_id, T0 + 4, "cases")
    boss_s.update_roster(g.roster())
    late_s.update_roster(g.roster())
    plain_s = g.session(_only(plain))
    from_member = plain_s.encrypt_targeted(
        ContentType.HISTORY_GRANT, grant.to_bytes(), _to(g, plain_s, late_s), now_ms=T0 + 5
    )
    with pytest.raises(HistoryGrantError, match="of a member, not a coordinator"):
        late_s.decrypt(from_member)
    wrong_scope = HistoryGrant(late.member_id, "prenotifications", (items["prenotifications"],))
    sneaked = boss_s.encrypt_targeted(
        ContentType.HISTORY_GRANT, wrong_scope.to_bytes(), _to(g, boss_s, late_s), now_ms=T0 + 6
    )
    with pytest.raises(HistoryGrantError, match="scope 'prenotifications'"):
        late_s.decrypt(sneaked)
    with pytest.raises(HistoryGrantError, match="seq 11: the served envelope is not the one"):
        open_granted_item(late_s.roster, "cases", items["cases"], envelopes["prenotifications"])
    bad_key = dataclasses.replace(items["cases"], item_key=bytes(44))
    with pytest.raises(HistoryGrantError, match="seq 11: message could not be decrypted"):
        open_granted_item(late_s.roster, "cases", bad_key, envelopes["cases"])
    with pytest.raises(HistoryGrantError, match="not in scope prenotifications"):
        open_granted_item(late_s.roster, "prenotifications", items["cases"], envelopes["cases"])
    ok = boss_s.grant_history(grant, _to(g, boss_s, late_s), now_ms=T0 + 7)
    assert HistoryGrant.from_bytes(late_s.decrypt(ok).content) == grant


def test_device_at_follows_revocation_removal_and_roles() -> None:
    """A device is found only at heads where it was certified, with its member's role then."""
    from cordon_client.crypto.authority import device_at

    g, boss, plain, *_ = _setup()
    heads = [g.roster().epoch_id]
    g.writer.set_role(g.root, plain.member_id, "coordinator", T0 + 1)
    heads.append(g.roster().epoch_id)
    g.writer.revoke_device(g.root, plain.member_id, _only(plain), T0 + 2)
    heads.append(g.roster().epoch_id)
    g.writer.remove_member(g.root, boss.member_id, T0 + 3)
    heads.append(g.roster().epoch_id)
    roster = g.roster()
    roles = [device_at(roster, _only(plain), h) for h in heads]
    assert [r[1] if r else None for r in roles] == ["member", "coordinator", None, None]
    bosses = [device_at(roster, _only(boss), h) for h in heads]
    assert [r[1] if r else None for r in bosses] == ["coordinator"] * 3 + [None]
    assert device_at(roster, uuid.uuid4(), heads[0]) is None
