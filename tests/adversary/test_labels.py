"""The operator against the signed labels of protocol v2 (issue 11 item 6, PROTOCOL.md §5.2,
§7 step 2): kind, urgency, reply and review targets edited in the database or rewritten in
one client's sync page or websocket stream, envelopes swapped between items and replayed.
Each forged item is refused with the exact reason; the next honest item is read."""

from typing import Any

from tests.adversary.expect import outcomes
from tests.adversary.operator_db import OperatorDB
from tests.adversary.party import Party
from tests.adversary.proxy import Frame, RewritingProxy


def _mismatch(seq: int, problem: str) -> str:
    return f"routing copy of seq {seq}: {problem}"


async def test_sync_page_with_edited_kind_urgent_and_parent_is_refused(
    party: Party, proxy: RewritingProxy
) -> None:
    """Alice's sync page says an alert is an urgent chat reply to another item: each edited
    field is refused by name; the coordinator's next alert is read."""
    group = await party.group(("alice", "bob"))
    coord, alice = group.coordinator, group["alice"]
    case = await coord.send(group.id, "case", kind="alert")
    other = await coord.send(group.id, "other case", kind="alert")
    await alice.receive()
    alert = await coord.send(group.id, "an alert", kind="alert")
    calm = await coord.send(group.id, "not urgent", kind="alert")
    reply = await coord.send(group.id, "a reply", kind="chat", parent_seq=case)
    edits: dict[int, dict[str, Any]] = {
        alert: {"kind": "chat"},
        calm: {"urgent": True},
        reply: {"parent_seq": other},
    }

    def forge(page: dict[str, Any]) -> dict[str, Any]:
        page["items"] = [{**i, **edits.get(i["seq"], {})} for i in page["items"]]
        return page

    rule = proxy.rewrite_json("GET", "/api/v1/sync", forge, times=1)
    assert outcomes(await alice.receive()) == {
        alert: (False, None, _mismatch(alert, "kind: 'chat' but the envelope is signed as alert")),
        calm: (
            False,
            None,
            _mismatch(calm, "urgent: True but the envelope is signed urgent=False"),
        ),
        reply: (
            False,
            None,
            _mismatch(reply, "parent_seq: names another item than the envelope's signed target"),
        ),
    }
    assert rule.hits == 1
    later = await coord.send(group.id, "later", kind="alert", urgent=True)
    got = {i.seq: i for i in await alice.receive()}
    assert (got[later].verified, got[later].text, got[later].urgent) == (True, "later", True)
    bob = {i.seq: i for i in await group["bob"].receive()}  # not behind the proxy
    assert (bob[reply].verified, bob[reply].parent_seq) == (True, case)


async def test_review_moved_to_another_case_is_refused(
    party: Party, proxy: RewritingProxy, operator_db: OperatorDB
) -> None:
    """The coordinator verified case A; the operator moves that review to case B, in the
    database for everyone and on the websocket for Alice: both refused, case B never shows
    it; Alice's listener then reads the authentic review of case A through /sync."""
    group = await party.group(("alice", "bob"))
    coord = group.coordinator
    case_a = await coord.send(group.id, "case A", kind="alert")
    case_b = await coord.send(group.id, "case B", kind="alert")
    await group["bob"].receive()
    review = await coord.send(group.id, "verified", kind="chat", parent_seq=case_a, review=True)
    await operator_db.set_item(group.id, review, parent_seq=case_b)
    got = {i.seq: i for i in await group["bob"].receive()}
    assert (got[review].verified, got[review].error, got[review].parent_seq) == (
        False,
        _mismatch(review, "parent_seq: names another item than the envelope's signed target"),
        case_b,
    )
    await operator_db.set_item(group.id, review, parent_seq=case_a)
    assert {i.seq: i.review for i in await group["alice"].receive()}[review] is True

    def move(frame: Frame) -> Frame | None:
        return {**frame, "parent_seq": case_b} if frame["kind"] == "chat" else None

    rule = proxy.rewrite_ws_item(move, times=1)
    async with group["alice"].listen() as items:
        moved = await coord.send(group.id, "verified", kind="chat", parent_seq=case_a, review=True)
        follow = await coord.send(group.id, "again", kind="chat", parent_seq=case_a, review=True)
        live = []
        async for item in items:
            if item.kind == "chat":
                live.append((item.seq, item.verified, item.parent_seq, item.review, item.error))
            if item.seq == follow:
                break
    assert rule.hits == 1
    assert live == [
        (
            moved,
            False,
            case_b,
            False,
            _mismatch(moved, "parent_seq: names another item than the envelope's signed target"),
        ),
        (moved, True, case_a, True, None),  # the authentic item, fetched through /sync
        (follow, True, case_a, True, None),
    ]


async def test_swapped_and_replayed_envelopes_are_refused(
    party: Party, proxy: RewritingProxy
) -> None:
    """Two items of Alice's sync page trade envelopes (a reordering) and one is served again
    under a new seq (a replay): all three refused; the next page is read normally."""
    group = await party.group()
    coord, alice = group.coordinator, group["alice"]
    first = await coord.send(group.id, "first", kind="alert")
    second = await coord.send(group.id, "second", kind="alert")

    def forge(page: dict[str, Any]) -> dict[str, Any]:
        by_seq = {i["seq"]: i for i in page["items"]}
        a, b = by_seq[first], by_seq[second]
        a["envelope"], b["envelope"] = b["envelope"], a["envelope"]
        return page

    proxy.rewrite_json("GET", "/api/v1/sync", forge, times=1)
    swapped = "client_msg_id is not the envelope's message id"
    assert outcomes(await alice.receive()) == {
        first: (False, None, _mismatch(first, swapped)),
        second: (False, None, _mismatch(second, swapped)),
    }
    third = await coord.send(group.id, "third", kind="alert")

    def replay(page: dict[str, Any]) -> dict[str, Any]:
        original = next(i for i in page["items"] if i["seq"] == third)
        page["items"].append({**original, "seq": third + 500})
        return page

    proxy.rewrite_json("GET", "/api/v1/sync", replay, times=1)
    assert outcomes(await alice.receive()) == {
        third: (True, "third", None),
        third + 500: (False, None, "duplicate message id from this device"),
    }
    fourth = await coord.send(group.id, "fourth", kind="alert")
    assert outcomes(await alice.receive()) == {fourth: (True, "fourth", None)}
