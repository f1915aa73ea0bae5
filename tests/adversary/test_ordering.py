"""The operator reorders and injects frames on one client's websocket (issue 11, "injection,
reordering and replay"; REALTIME.md, ordering): the listener still delivers every real item
exactly once and verified, in seq order, and an injected frame moves nothing."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from cordon_client._client import Cordon
from cordon_client.messaging.realtime import CURSOR_SECRET, Positions

from tests.adversary.expect import outcomes
from tests.adversary.forge import flip_b64
from tests.adversary.party import Party
from tests.adversary.proxy import Frame, RewritingProxy, is_item


async def _alerts(alice: Cordon, sends: Callable[[], Awaitable[set[int]]]) -> list[Any]:
    """Listen while `sends()` posts; the alerts the listener yields until it has yielded every
    seq `sends()` named."""
    got: list[tuple[Any, ...]] = []
    with contextlib.suppress(TimeoutError):  # an item that never comes shows in the comparison
        async with asyncio.timeout(20), alice.listen() as items:
            awaited = await sends()
            async for item in items:
                if item.kind == "alert":
                    got.append((item.seq, item.verified, item.text, item.error))
                if awaited <= {seq for seq, *_ in got}:
                    break
    return got


def _delivered_alerts(proxy: RewritingProxy) -> list[int]:
    """The seqs of the alert frames the proxy handed to the client, in that order."""
    return [
        frame["seq"]
        for record in proxy.frames
        if record.direction == "to_client"
        for frame in record.delivered
        if isinstance(frame, dict) and is_item(frame) and frame["kind"] == "alert"
    ]


async def test_swapped_websocket_items_are_each_delivered_once(
    party: Party, proxy: RewritingProxy
) -> None:
    """Two alerts reach Alice's socket in reverse order: both come out once, verified, in seq
    order; the next alert follows."""
    group = await party.group()
    coord, alice = group.coordinator, group["alice"]
    warm = await coord.send(group.id, "chain handed out", kind="alert")
    assert [i.seq for i in await alice.receive() if i.kind == "alert"] == [warm]
    rule = proxy.reorder_ws_items(2, lambda f: f["kind"] == "alert")
    seqs: list[int] = []

    async def sends() -> set[int]:
        for text in ("first", "second", "third"):
            seqs.append(await coord.send(group.id, text, kind="alert"))
        return set(seqs)

    got = await _alerts(alice, sends)
    first, second, third = seqs
    assert _delivered_alerts(proxy) == [second, first, third]
    assert rule.hits == 2
    assert got == [
        (first, True, "first", None),
        (second, True, "second", None),
        (third, True, "third", None),
    ]
    assert Positions.decode(alice.state.secret(CURSOR_SECRET).decode()).get(group.id) == third
    assert outcomes(await alice.receive()) == {}


async def test_injected_high_seq_frame_is_refused_and_moves_nothing(
    party: Party, proxy: RewritingProxy
) -> None:
    """Before Alice's next real alert the operator injects a forged copy 100 seqs ahead: it is
    refused with its exact reason, the real alerts below it are still delivered once, and the
    cursor never points at the forged seq."""
    group = await party.group()
    coord, alice = group.coordinator, group["alice"]
    await coord.send(group.id, "chain handed out", kind="alert")
    await alice.receive()

    def inject(frame: Frame) -> list[Frame] | None:
        if frame.get("type") != "item" or frame["kind"] != "alert":
            return None
        forged = {**frame, "seq": frame["seq"] + 100, "envelope": flip_b64(frame["envelope"])}
        return [forged, frame]

    rule = proxy.rewrite_ws(inject, times=1)
    seqs: list[int] = []

    async def sends() -> set[int]:
        seqs.append(await coord.send(group.id, "real one", kind="alert"))
        seqs.append(await coord.send(group.id, "real two", kind="alert"))
        return {*seqs, seqs[0] + 100}

    got = await _alerts(alice, sends)
    first, second = seqs
    assert rule.hits == 1
    assert _delivered_alerts(proxy) == [first + 100, first, second]
    assert got == [
        (first, True, "real one", None),
        (second, True, "real two", None),
        (first + 100, False, None, "envelope: signature does not verify"),
    ]
    assert Positions.decode(alice.state.secret(CURSOR_SECRET).decode()).get(group.id) == second
    later = await coord.send(group.id, "after the forgery", kind="alert")
    assert outcomes(await alice.receive()) == {later: (True, "after the forgery", None)}
