"""The local view: validation after decryption, cases, pre-notifications, filters, events."""

import dataclasses
import json
import time
import uuid
from datetime import UTC, datetime

import pytest
from cordon_client._client import Incoming
from cordon_client.cases import post_case
from cordon_client.crypto import Device, Member, Roster
from cordon_client.records.view import (
    Item,
    build_cases,
    build_prenotifications,
    decode_items,
    domain_registry,
    filter_cases,
    filter_views,
    verify_status_event,
)
from cordon_client.records.workflow import sign_event
from cordon_client.templates.registry import InvalidContentError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.templates import samples

GROUP = uuid.uuid4()
ALICE, BOB, COORD = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
REG = domain_registry()


def _content(kind: str, template: str, data: dict, form: str | None = None, **extra) -> bytes:
    raw = json.loads(REG.make_content(kind, template, data, form=form)) | extra
    return json.dumps(raw).encode()


def _in(seq, kind, content, sender=ALICE, parent=None, verified=True, error=None, event=None):
    return Incoming(
        GROUP,
        seq,
        kind,
        sender,
        uuid.uuid4(),
        verified,
        content,
        error,
        parent_seq=parent,
        event=event,
    )


def _case(seq=1, sender=ALICE, parent=None, kind="seizure_case", **changes) -> Incoming:
    data = samples.case() | changes
    return _in(seq, "alert", _content(kind, "seizure-case", data, "simplified"), sender, parent)


def _decode(*incoming: Incoming) -> list[Item]:
    return decode_items(incoming, registry=REG, coordinators={COORD})


def test_content_that_breaks_its_template_is_refused_with_path_and_reason():
    """A decrypted case with a bad field is kept as refused, never shown as a valid case."""
    raw = json.loads(_case().content)
    raw["data"]["reports"][0]["items"][0]["hs_code"] = "3002.4"
    [item] = _decode(_in(1, "alert", json.dumps(raw).encode()))
    assert not item.valid
    assert item.error == "reports[0].items[0].hs_code: '3002.4' is not an allowed code"
    assert build_cases([item]) == []


def test_refused_envelopes_and_unknown_templates_stay_refused():
    """Crypto failures keep their reason; an unknown template version is refused by name."""
    raw = json.loads(_case().content)
    raw["template"]["version"] = 9
    failed, unknown = _decode(
        _in(1, "alert", None, verified=False, error="signature does not verify"),
        _in(2, "alert", json.dumps(raw).encode()),
    )
    assert (failed.valid, failed.error) == (False, "signature does not verify")
    assert not unknown.valid and "seizure-case v9" in (unknown.error or "")


def test_content_rules_bind_type_kind_sender_and_thread():
    """A case must be an alert, a review must come from a coordinator and name its case."""
    review = _content("case_review", "case-review", {"verdict": "verified"})
    as_chat = _in(1, "chat", _case().content)
    by_member = _in(2, "chat", review, sender=BOB, parent=5)
    no_parent = _in(3, "chat", review, sender=COORD)
    good = _in(4, "chat", review, sender=COORD, parent=5)
    items = _decode(as_chat, by_member, no_parent, good)
    assert [i.valid for i in items] == [False, False, False, True]
    assert "must travel as alert" in (items[0].error or "")
    assert "only a coordinator" in (items[1].error or "")
    assert (items[2].error or "").startswith("parent_seq")


def test_plain_text_chat_is_text_but_a_plain_prenotification_is_refused():
    """Free text stays chat; a pre-notification must be template content."""
    chat, pn = _decode(_in(1, "chat", b"hello"), _in(2, "prenotification", b"hello"))
    assert (chat.type, chat.valid, chat.data) == ("text", True, {"text": "hello"})
    assert not pn.valid


def test_own_items_and_other_server_events_are_skipped():
    """This device's own envelopes come from the archive; membership events are not items."""
    mine = _case()
    membership = _in(2, "membership", None, verified=False, event={"op": "add_member"})
    items = decode_items(
        [mine, membership], registry=REG, own_device=mine.sender_device_id, coordinators=set()
    )
    assert items == []


def test_case_versions_thread_and_review_status():
    """Amendments by the sender are versions; others' are refused; status follows the thread."""
    reply = _content("case_reply", "case-reply", {"text": "which airport?"})
    review = _content("case_review", "case-review", {"verdict": "corrections_requested"})
    items = _decode(
        _case(1),
        _in(2, "chat", reply, sender=BOB, parent=1),
        _in(3, "chat", _content("case_reply", "case-reply", {"text": "Brussels"}), parent=2),
        _in(4, "chat", review, sender=COORD, parent=1),
        _case(5, parent=1, kind="seizure_case_amendment", operation="STOP II"),
        _case(6, sender=BOB, parent=1, kind="seizure_case_amendment"),
    )
    [case] = build_cases(items)
    assert [v.seq for v in case.versions] == [1, 5] and case.data["operation"] == "STOP II"
    assert [r.seq for r in case.replies] == [2, 3]
    assert case.status == "amended"
    assert [(r.seq, r.error) for r in case.refused] == [
        (6, "sender: only the case's sender may amend it")
    ]
    assert case.record()["meta"] | {"sent_at": None} == {
        "seq": 1,
        "sender": str(ALICE),
        "sent_at": None,
        "status": "amended",
        "template": "seizure-case",
        "template_version": 1,
        "version": 2,
    }


def test_case_filters_on_decrypted_fields():
    """Cases filter by review status, any country they name and handling code."""
    review = _content("case_review", "case-review", {"verdict": "verified"})
    items = _decode(
        _case(1), _case(2, handling_code="H3"), _in(3, "chat", review, sender=COORD, parent=2)
    )
    cases = build_cases(items)
    assert [c.seq for c in filter_cases(cases, status=["verified"])] == [2]
    assert [c.seq for c in filter_cases(cases, country="in")] == [1, 2]
    assert filter_cases(cases, country="KE") == []
    assert [c.seq for c in filter_cases(cases, handling_code="h3")] == [2]


def _roster(device_id: uuid.UUID, key: Ed25519PrivateKey) -> Roster:
    device = Device(device_id, BOB, key.public_key().public_bytes_raw())
    member = Member(BOB, "member", b"\x00" * 32, {device_id: device}, frozenset())
    return Roster(GROUP, b"\x01" * 32, {BOB: member}, (), ())


def _event(key, device_id, pn_id, to, seq=1, frm="sent", detail=None, forge=False):
    ts = int(time.time() * 1000)
    sig = sign_event(
        key,
        group_id=GROUP,
        prenotification_id=pn_id,
        seq=seq,
        from_status=frm,
        to_status="cleared" if forge else to,
        ts=ts,
        detail=detail,
    )
    return {
        "prenotification_id": str(pn_id),
        "seq": seq,
        "from": frm,
        "to": to,
        "actor_user_id": str(BOB),
        "actor_device_id": str(device_id),
        "ts": ts,
        "detail_seq": None,
        "sig": sig.hex(),
    }


def test_status_events_count_only_when_their_signature_verifies():
    """A forged or unknown-device event is refused; the status follows verified events."""
    key, device_id, pn_id = Ed25519PrivateKey.generate(), uuid.uuid4(), uuid.uuid4()
    roster = _roster(device_id, key)
    pn = _content(
        "prenotification",
        "vaccine-prenotification",
        samples.prenotification(),
        routing={"destination": [str(BOB)], "transit": [], "prenotification_id": str(pn_id)},
    )
    good = _event(key, device_id, pn_id, "acknowledged")
    forged = _event(key, device_id, pn_id, "arrived", seq=2, frm="acknowledged", forge=True)
    stranger = _event(Ed25519PrivateKey.generate(), uuid.uuid4(), pn_id, "arrived", seq=2)
    items = _decode(
        _in(1, "prenotification", pn),
        *[
            _in(s, "prenotification_event", None, BOB, 1, False, event=e)
            for s, e in ((2, good), (3, forged), (4, stranger))
        ],
    )
    checked = [items[0], *[verify_status_event(i, roster, None) for i in items[1:]]]
    assert [i.valid for i in checked] == [True, True, False, False]
    assert checked[2].error == "status event: signature does not verify"
    assert "not in the verified roster" in (checked[3].error or "")
    [view] = build_prenotifications(checked)
    assert (view.status, view.id, len(view.refused)) == ("acknowledged", str(pn_id), 2)
    assert view.record()["meta"] | {"sent_at": None} == {
        "seq": 1,
        "id": str(pn_id),
        "sender": str(ALICE),
        "sent_at": None,
        "status": "acknowledged",
        "template": "vaccine-prenotification",
        "template_version": 1,
        "version": 1,
    }


def test_prenotification_filters_use_verified_status_and_decrypted_eta():
    """Overdue means awaiting acknowledgement past the decrypted ETA; country matches routes."""
    first = samples.prenotification()
    later = samples.prenotification() | {"destination_country": "KE"}
    later["transport"] = later["transport"] | {"eta": "2021-06-05T10:00:00Z"}
    routing = {"destination": [str(BOB)], "transit": []}
    items = _decode(
        _in(
            1,
            "prenotification",
            _content("prenotification", "vaccine-prenotification", first, routing=routing),
        ),
        _in(
            2,
            "prenotification",
            _content("prenotification", "vaccine-prenotification", later, routing=routing),
        ),
    )
    views = build_prenotifications(items)
    now = datetime(2021, 6, 2, tzinfo=UTC)
    assert [v.seq for v in filter_views(views, overdue=True, now=now)] == [1]
    assert [v.seq for v in filter_views(views, country="ke")] == [2]
    assert [v.seq for v in filter_views(views, eta_before=now)] == [1]
    assert filter_views(views, status=["acknowledged"]) == []


def test_archive_items_round_trip_through_json():
    """What the archive stores reads back identical."""
    [item] = _decode(_case())
    assert Item.from_json(json.loads(json.dumps(item.to_json()))) == item


class _Unreachable:
    """A client that must not be used: validation has to fail first."""

    async def send(self, *_args: object, **_kwargs: object) -> int:
        raise AssertionError("invalid content reached the network")


async def test_an_invalid_case_is_refused_before_encrypting():
    """post_case validates against the template before anything is sealed or sent."""
    case = samples.case()
    del case["handling_code"]
    with pytest.raises(InvalidContentError) as refused:
        await post_case(_Unreachable(), GROUP, case, form="simplified")  # type: ignore[arg-type]
    assert [str(e) for e in refused.value.errors] == ["handling_code: is required"]


def test_export_gives_the_signed_send_time_not_when_this_device_decrypted():
    """`meta.sent_at` is the envelope's signed `ts` carried on the Incoming (issue 12, 13),
    whatever the time of decryption."""
    signed = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    items = _decode(dataclasses.replace(_case(1), sent_at=signed))
    [case] = build_cases(items)
    assert case.record()["meta"]["sent_at"] == "2026-03-01T08:30:00+00:00"
    assert items[0].received_at != case.record()["meta"]["sent_at"]
