"""Sender-key recovery (PROTOCOL.md §6.3): one lost SENDER_KEY costs one round trip.

A receiver that gets a broadcast on a chain it never received parks the item and sends the
chain's owner device a targeted KEY_REQUEST `enc(chain_id, index)`. The owner checks that the
requester is a device of its verified current roster, rate-limits per requester, and re-shares
the chain from that index to that device only (or, if it no longer holds that key, starts a
fresh chain that its next broadcast hands to everyone). When the chain arrives, the parked
items are opened again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cordon_client.account.client import now_ms
from cordon_client.crypto import GroupSession, Recipient
from cordon_client.crypto.session import parse_key_request
from cordon_client.exceptions import MissingChainError, UntrustedSenderError

if TYPE_CHECKING:
    from cordon_client.messaging.client import MessagingClient

ASK_INTERVAL_MS = 60_000  # requester: one request per (owner device, chain) per minute
ANSWER_INTERVAL_MS = 60_000  # owner: one answer per (requester device, chain) per minute
ANSWERS_PER_HOUR = 20  # owner: answers per requester device per hour
PARKED_MAX = 1_000
PARKED = "parked-items"


@dataclass
class RecoveryState:
    """Per-process rate limits; parked items live in the keystore (`PARKED`)."""

    asked: dict[tuple[uuid.UUID, uuid.UUID], int] = field(default_factory=dict)
    answered: dict[tuple[uuid.UUID, uuid.UUID], int] = field(default_factory=dict)
    answers: dict[uuid.UUID, list[int]] = field(default_factory=dict)

    def may_ask(self, owner: uuid.UUID, chain_id: uuid.UUID, now: int) -> bool:
        """At most one request per owner device and chain per ASK_INTERVAL_MS."""
        last = self.asked.get((owner, chain_id))
        if last is not None and now - last < ASK_INTERVAL_MS:
            return False
        self.asked[(owner, chain_id)] = now
        return True

    def may_answer(self, requester: uuid.UUID, chain_id: uuid.UUID, now: int) -> bool:
        """One answer per requester and chain per minute, ANSWERS_PER_HOUR per requester."""
        last = self.answered.get((requester, chain_id))
        recent = [t for t in self.answers.get(requester, []) if now - t < 3_600_000]
        if (last is not None and now - last < ANSWER_INTERVAL_MS) or len(recent) >= (
            ANSWERS_PER_HOUR
        ):
            return False
        self.answered[(requester, chain_id)] = now
        self.answers[requester] = [*recent, now]
        return True


def park(cordon: MessagingClient, item: dict[str, Any]) -> None:
    """Keep an item that waits for its chain (bounded, oldest dropped)."""
    parked = parked_items(cordon)
    if all(p["seq"] != item["seq"] or p["group_id"] != item["group_id"] for p in parked):
        parked.append(item)
    del parked[:-PARKED_MAX]
    cordon.state.set_secret(PARKED, json.dumps(parked).encode())


def parked_items(cordon: MessagingClient) -> list[dict[str, Any]]:
    """Items waiting for a chain, oldest first."""
    raw = cordon.state.secret(PARKED)
    items: list[dict[str, Any]] = json.loads(raw) if raw else []
    return items


async def ask_owner(
    cordon: MessagingClient, group_id: uuid.UUID, session: GroupSession, exc: MissingChainError
) -> bool:
    """Send the chain's owner a KEY_REQUEST (rate-limited); True if one was sent."""
    owner, chain_id = exc.sender_device_id, exc.chain_id
    assert isinstance(owner, uuid.UUID) and isinstance(chain_id, uuid.UUID)
    if not cordon._recovery.may_ask(owner, chain_id, now_ms()):
        return False

    def seal(targets: Sequence[Recipient], at: int) -> bytes:
        return session.request_chain(chain_id, exc.index, targets[0], now_ms=at)

    await cordon._post_targeted(group_id, session, "sender_key", [owner], seal)
    return True


async def answer(
    cordon: MessagingClient,
    group_id: uuid.UUID,
    requester: uuid.UUID,
    content: bytes,
) -> None:
    """Re-share this device's chain to a roster device that asked for it, or rotate."""
    chain_id, index = parse_key_request(content)
    session = await cordon._session(group_id, refresh=True)
    if session.roster.device(requester) is None:
        raise UntrustedSenderError(f"key request from device {requester}, not in the roster")
    now = now_ms()
    chain = session.sender_chain
    if chain is None or chain.chain_id != chain_id:
        return  # an old chain: the requester gets the current one with the next broadcast
    if not cordon._recovery.may_answer(requester, chain_id, now):
        return
    if session.needs_rotation(now) or chain.share_from(index) is None:
        session.sender_chain = None  # too old to re-share: the next broadcast starts afresh
        cordon._save()
        return

    def seal(targets: Sequence[Recipient], at: int) -> bytes:
        sealed = session.answer_key_request(targets[0], chain_id, index, now_ms=at)
        assert sealed is not None  # checked above, nothing advanced the chain since
        return sealed

    await cordon._post_targeted(group_id, session, "sender_key", [requester], seal)


async def retry_parked(cordon: MessagingClient) -> list[Any]:
    """Open again every parked item whose chain has arrived; the rest stay parked."""
    parked = parked_items(cordon)
    if not parked:
        return []
    opened, still = [], []
    for item in parked:
        incoming = await cordon._open(item, park_missing=False)
        if not incoming.verified and incoming.error and "no sender key" in incoming.error:
            still.append(item)
        else:
            opened.append(incoming)
    cordon.state.set_secret(PARKED, json.dumps(still).encode())
    return opened
