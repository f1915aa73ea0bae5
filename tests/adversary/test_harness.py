"""Demonstrations of the harness against protections that already hold: the operator edits
the database or rewrites one client's traffic through the proxy; the client refuses exactly
the forged item with a specific reason and keeps working for everything else."""

import asyncio
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cordon_client.exceptions import (
    ApiError,
    DecryptionError,
    InjectedDeviceError,
    LogGapError,
    LogRollbackError,
)
from websockets.asyncio.client import connect

from tests.adversary.expect import exactly, outcomes
from tests.adversary.forge import flip_b64, flip_b64url, flip_byte
from tests.adversary.operator_db import OperatorDB
from tests.adversary.party import Party
from tests.adversary.proxy import Frame, RewritingProxy


async def test_database_byte_flip_in_an_envelope_is_refused_and_the_next_item_is_read(
    party: Party, operator_db: OperatorDB
) -> None:
    group = await party.group()
    bob = group["bob"]
    forged = await group.coordinator.send(group.id, "to be tampered with", kind="alert")
    await operator_db.flip_envelope_byte(group.id, forged)
    follow = await group.coordinator.send(group.id, "still working", kind="alert")

    assert outcomes(await bob.receive()) == {
        forged: (False, None, "envelope: signature does not verify"),
        follow: (True, "still working", None),
    }


async def test_proxy_forging_a_log_signature_is_refused_for_that_client_only(
    party: Party, proxy: RewritingProxy
) -> None:
    group = await party.group()
    alice, bob = group["alice"], group["bob"]  # alice is behind the proxy

    def forge_last_signature(body: dict[str, Any]) -> dict[str, Any]:
        entry = body["items"][-1]["entry"]
        entry["sig"] = flip_b64url(entry["sig"])
        return body

    rule = proxy.rewrite_json("GET", f"/api/v1/groups/{group.id}/log", forge_last_signature)
    with pytest.raises(
        InjectedDeviceError,
        match=exactly("injected device rejected: seq 6 (add_device): signature does not verify"),
    ):
        await alice.roster(group.id)
    assert rule.hits == 1
    assert len((await bob.roster(group.id)).devices()) == 3  # bob is not behind the proxy

    rule.remove()
    seq = await group.coordinator.send(group.id, "after the forged log", kind="alert")
    assert [(i.seq, i.verified) for i in await alice.receive() if i.kind == "alert"] == [
        (seq, True)
    ]
    assert [e.status for e in proxy.requests("GET", r"/api/v1/groups/.*/log")][-1] == 200


async def test_proxy_serving_an_older_log_is_refused_as_a_rollback(
    party: Party, proxy: RewritingProxy
) -> None:
    group = await party.group(joined=("alice",))
    alice, bob = group["alice"], group["bob"]
    log = f"/api/v1/groups/{group.id}/log"
    await alice.send(group.id, "opens alice's session", kind="alert")
    old_log = proxy.requests("GET", log)[-1].response_json
    await party.admit(group.coordinator, bob, group.id, group.users["bob"].username)
    await bob.join_group(group.id, expected_fingerprint=group.code)
    assert (await alice.roster(group.id)).head_seq == 6

    rollback = proxy.respond_json("GET", log, old_log)
    with pytest.raises(
        LogRollbackError,
        match=f"group {group.id}: rollback refused: the server's log ends at seq 4, but this "
        r"device already verified seq 6 \(epoch [0-9a-f]{16}\)$",
    ):
        await alice.roster(group.id)
    rollback.remove()
    seq = await group.coordinator.send(group.id, "after the rollback", kind="alert")
    assert outcomes(await alice.receive())[seq] == (True, "after the rollback", None)


async def test_proxy_replaying_an_item_in_a_sync_page_is_refused(
    party: Party, proxy: RewritingProxy
) -> None:
    group = await party.group()
    alice = group["alice"]
    first = await group.coordinator.send(group.id, "said once", kind="alert")

    def duplicate(page: dict[str, Any]) -> dict[str, Any]:
        original = next(i for i in page["items"] if i["seq"] == first)
        page["items"].append({**original, "seq": first + 1000})
        return page

    proxy.rewrite_json("GET", "/api/v1/sync", duplicate, times=1)
    got = [(i.seq, i.verified, i.error) for i in await alice.receive() if i.kind == "alert"]
    assert got == [
        (first, True, None),
        (first + 1000, False, "duplicate message id from this device"),
    ]
    later = await group.coordinator.send(group.id, "said later", kind="alert")
    assert [i.text for i in await alice.receive() if i.seq == later] == ["said later"]


async def test_websocket_item_tampered_in_flight_is_refused_and_the_stream_goes_on(
    party: Party, proxy: RewritingProxy
) -> None:
    group = await party.group()
    alice = group["alice"]

    def tamper(frame: Frame) -> Frame | None:
        if frame["kind"] != "alert":
            return None
        return {**frame, "envelope": flip_b64(frame["envelope"])}

    rule = proxy.rewrite_ws_item(tamper, times=1)
    async with alice.listen() as items:
        forged = await group.coordinator.send(group.id, "tampered in flight", kind="alert")
        follow = await group.coordinator.send(group.id, "delivered intact", kind="alert")
        got = []
        async for item in items:
            if item.kind == "alert":
                got.append((item.seq, item.verified, item.text, item.error))
            if item.seq == follow:
                break
    assert got == [  # the refused frame moved nothing: the authentic item came through /sync
        (forged, False, None, "envelope: signature does not verify"),
        (forged, True, "tampered in flight", None),
        (follow, True, "delivered intact", None),
    ]
    assert rule.hits == 1
    assert [f["seq"] for f in proxy.items_to_client() if f["kind"] == "alert"] == [
        forged,
        follow,
    ]
    sent = [r.frame for r in proxy.frames if r.direction == "to_server"]
    assert [f["type"] for f in sent if isinstance(f, dict)][:1] == ["auth"]


async def test_library_stream_through_the_proxy_and_a_flipped_byte_refused(
    party: Party, proxy: RewritingProxy, tmp_path: Path
) -> None:
    group = await party.group(proxied=("coordinator", "alice"))
    alice = group["alice"]
    report = tmp_path / "analysis-report.pdf"
    report.write_bytes(os.urandom(2 * 1024 * 1024 + 5))
    published = await group.coordinator.publish_document(
        group.id, report, category="analysis_report"
    )
    assert proxy.requests("PUT", r"/api/v1/library/segments/.*"), "the upload was proxied"
    await alice.receive()
    doc, version = published.document_id, published.version
    content = f"/api/v1/groups/{group.id}/library/documents/{doc}/versions/{version}/content"

    rule = proxy.rewrite_body("GET", re.escape(content), lambda body: flip_byte(body, 100_000))
    forged = tmp_path / "forged.pdf"
    refusal = (
        "document segment 0 failed authentication: "
        f"the download is refused and nothing was saved as {forged}"
    )
    with pytest.raises(DecryptionError, match=exactly(refusal)):
        await alice.download_document(group.id, doc, version, forged)
    assert not (tmp_path / "forged.pdf").exists()

    rule.remove()
    await alice.download_document(group.id, doc, version, tmp_path / "intact.pdf")
    assert (tmp_path / "intact.pdf").read_bytes() == report.read_bytes()
    assert [e.rewritten for e in proxy.requests("GET", re.escape(content))] == [True, False]


async def test_database_deleting_a_log_entry_is_refused_as_a_gap_until_it_is_back(
    party: Party, operator_db: OperatorDB
) -> None:
    group = await party.group()
    bob = group["bob"]
    deleted = await operator_db.delete_log_entry(group.id, 3)
    with pytest.raises(
        LogGapError, match=exactly("entry seq 3 is missing (next is 4): an entry was dropped")
    ):
        await bob.roster(group.id)

    await operator_db.insert_log_entry(deleted)
    assert (await bob.roster(group.id)).head_seq == 6
    seq = await group.coordinator.send(group.id, "log restored", kind="alert")
    assert outcomes(await bob.receive())[seq] == (True, "log restored", None)


async def test_cli_through_the_proxy_shows_the_forged_item_refused_and_the_next_verified(
    party: Party, proxy: RewritingProxy
) -> None:
    group = await party.group()
    forged = await group.coordinator.send(group.id, "forged in the sync page", kind="alert")
    follow = await group.coordinator.send(group.id, "intact", kind="alert")

    def tamper(page: dict[str, Any]) -> dict[str, Any]:
        for item in page["items"]:
            if item["seq"] == forged:
                item["envelope"] = flip_b64(item["envelope"])
        return page

    proxy.rewrite_json("GET", "/api/v1/sync", tamper, times=1)
    alice = await party.cli("alice", proxied=True)
    blocks: dict[int, list[str]] = {}  # "#SEQ time group kind sender" then indented text
    for line in (await alice.run("receive")).output.splitlines():
        if line.startswith("#"):
            blocks[int(line[1:].split()[0])] = current = []
        else:
            current.append(line.strip())
    assert blocks[forged] == ["NOT VERIFIED: envelope: signature does not verify"]
    assert blocks[follow] == ["intact"]


async def test_websocket_replayed_item_reaches_the_application_once(
    party: Party, proxy: RewritingProxy
) -> None:
    group = await party.group()
    alice = group["alice"]
    rule = proxy.replay_ws_items(lambda f: f["kind"] == "alert", times=1)
    async with alice.listen() as items:
        first = await group.coordinator.send(group.id, "said once", kind="alert")
        second = await group.coordinator.send(group.id, "said next", kind="alert")
        got = []
        async for item in items:
            if item.kind == "alert":
                got.append((item.seq, item.text, item.verified))
            if item.seq == second:
                break
    assert got == [(first, "said once", True), (second, "said next", True)]
    assert rule.hits == 1
    copies = [
        r.delivered
        for r in proxy.frames
        if r.direction == "to_client"
        and isinstance(r.frame, dict)
        and r.frame.get("type") == "item"
        and r.frame["seq"] == first
    ]
    assert copies == [[copies[0][0], copies[0][0]]]  # the proxy delivered the item twice


async def test_proxy_rules_shape_a_raw_socket_as_installed(
    party: Party, proxy: RewritingProxy
) -> None:
    """The harness itself: dropped items never arrive, held items arrive reordered, frames
    both ways are recorded, and `wait_for` wakes on traffic (no sleeps)."""
    group = await party.group()
    token = group["alice"].state.token
    alert: Callable[[Frame], bool] = lambda f: f["kind"] == "alert"  # noqa: E731
    seqs = [await group.coordinator.send(group.id, f"alert {n}", kind="alert") for n in range(3)]
    proxy.drop_ws_items(lambda f: f["seq"] == seqs[0])
    proxy.reorder_ws_items(2, alert)
    async with connect(proxy.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token, "cursor": None}))
        frames = [json.loads(await asyncio.wait_for(ws.recv(), 10))]
        while frames[-1]["type"] != "caught_up":  # the backlog, then the marker
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
    await proxy.wait_for(lambda p: any(r.direction == "to_server" for r in p.frames))
    assert [f["type"] for f in frames][0] == "ready"
    assert [f["seq"] for f in frames if f["type"] == "item" and alert(f)] == seqs[:0:-1]
    assert [f["seq"] for f in proxy.items_to_client() if alert(f)] == seqs
    assert [r.frame for r in proxy.frames if r.direction == "to_server"][0] == {
        "type": "auth",
        "token": token,
        "cursor": None,
    }


async def test_a_rule_that_raises_is_reported_to_the_test(
    party: Party, proxy: RewritingProxy
) -> None:
    """A broken rule must not pass for a client refusal: the client sees a 500 and the test
    sees the rule's traceback (the `proxy` fixture fails any test that leaves one)."""
    user, _ = await party.user()
    client = await party.device(user, "phone", proxied=True)
    proxy.rewrite_json("GET", "/api/v1/groups", lambda body: body[0]["no such field"])
    with pytest.raises(ApiError) as refused:
        await client.groups()
    assert refused.value.status == 500
    assert len(proxy.errors) == 1 and "IndexError: list index out of range" in proxy.errors[0]
    proxy.errors.clear()
