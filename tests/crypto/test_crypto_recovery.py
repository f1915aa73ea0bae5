"""Sender-key recovery in the sans-I/O session (PROTOCOL.md §6.3): KEY_REQUEST, the owner's
re-share window, and who may ask."""

from __future__ import annotations

import uuid

import pytest
from cordon_client.crypto import ContentType
from cordon_client.crypto._encoding import decode
from cordon_client.crypto.ratchet import MAX_SKIP, chain_step
from cordon_client.crypto.session import parse_key_request
from cordon_client.exceptions import (
    KeyUnavailableError,
    MalformedError,
    MissingChainError,
    ReplayError,
    UntrustedSenderError,
)
from cordon_client.messaging.recovery import ANSWERS_PER_HOUR, RecoveryState

from .helpers import T0, make_group


def test_a_receiver_missing_the_chain_asks_and_the_owner_re_shares_from_that_index() -> None:
    """B lost A's SENDER_KEY: B's KEY_REQUEST names A's chain and the broadcast's index; A's
    answer, to B only, lets B open that broadcast and the next; a second answer is a replay."""
    g = make_group(3)
    a_id, b_id, c_id = g.device_ids()[:3]
    a, b, c = g.session(a_id), g.session(b_id), g.session(c_id)
    c.decrypt(a.rotate_sender_chain(g.recipients(a), now_ms=T0 + 1))  # B never gets it
    first = a.encrypt_broadcast(ContentType.ALERT, b"one", now_ms=T0 + 2)
    second = a.encrypt_broadcast(ContentType.ALERT, b"two", now_ms=T0 + 3)
    with pytest.raises(MissingChainError) as missing:
        b.decrypt(first)
    assert a.sender_chain is not None
    assert (missing.value.sender_device_id, missing.value.chain_id, missing.value.index) == (
        a_id,
        a.sender_chain.chain_id,
        0,
    )
    owner = next(r for r in g.recipients(b) if r.device_id == a_id)
    request = b.request_chain(a.sender_chain.chain_id, 0, owner, now_ms=T0 + 4)
    received = a.decrypt(request)
    assert received.content_type == ContentType.KEY_REQUEST
    assert parse_key_request(received.content) == (a.sender_chain.chain_id, 0)
    requester = next(r for r in g.recipients(a) if r.device_id == b_id)
    answer = a.answer_key_request(requester, a.sender_chain.chain_id, 0, now_ms=T0 + 5)
    assert answer is not None
    b.decrypt(answer)
    assert b.decrypt(first).content == b"one"
    assert b.decrypt(second).content == b"two"
    with pytest.raises(KeyUnavailableError, match="not a recipient"):
        c.decrypt(answer)  # wrapped to B alone
    again = a.answer_key_request(requester, a.sender_chain.chain_id, 0, now_ms=T0 + 6)
    assert again is not None
    with pytest.raises(ReplayError):
        b.decrypt(again)


def test_the_re_share_window_is_bounded() -> None:
    """The owner keeps the chain key at most MAX_SKIP steps back: an older index gets None
    (a fresh chain instead); the key it gives for a held index is the chain's own."""
    g = make_group(2)
    a_id, b_id = g.device_ids()[:2]
    a, b = g.session(a_id), g.session(b_id)
    b.decrypt(a.rotate_sender_chain(g.recipients(a), now_ms=T0 + 1))
    chain = a.sender_chain
    assert chain is not None
    ck = chain.chain_key
    for _ in range(MAX_SKIP + 5):
        chain.next_key()
    assert chain.share_from(4) is None
    held = chain.share_from(5)
    assert held is not None
    for _ in range(5):
        ck = chain_step(ck)[1]
    assert decode(held)[:3] == [chain.chain_id.bytes, (5).to_bytes(8, "big"), ck]
    restored = type(chain).from_bytes(chain.to_bytes())
    assert (restored.start_index, restored.start_key) == (chain.start_index, chain.start_key)


def test_only_roster_devices_get_an_answer_and_requests_are_strict() -> None:
    """A request naming a device outside the verified roster is refused; malformed request
    content is refused."""
    g = make_group(2)
    a_id, b_id = g.device_ids()[:2]
    a = g.session(a_id)
    a.rotate_sender_chain(g.recipients(a), now_ms=T0 + 1)
    assert a.sender_chain is not None
    stranger = next(r for r in g.recipients(a) if r.device_id == b_id)
    stranger = type(stranger)(uuid.uuid4(), stranger.prekey_id, stranger.public_key)
    with pytest.raises(UntrustedSenderError):
        a.answer_key_request(stranger, a.sender_chain.chain_id, 0, now_ms=T0 + 2)
    for bad in (b"", bytes(12), b"\x00\x00\x00\x10" + bytes(16)):
        with pytest.raises(MalformedError):
            parse_key_request(bad)


def test_requests_and_answers_are_rate_limited() -> None:
    """One request per owner and chain per minute; one answer per requester and chain per
    minute and at most ANSWERS_PER_HOUR per requester."""
    state = RecoveryState()
    owner, chain, requester = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert state.may_ask(owner, chain, T0)
    assert not state.may_ask(owner, chain, T0 + 59_999)
    assert state.may_ask(owner, chain, T0 + 60_000)
    assert state.may_answer(requester, chain, T0)
    assert not state.may_answer(requester, chain, T0 + 1)
    answered = 1 + sum(
        state.may_answer(requester, uuid.uuid4(), T0 + 10 + i) for i in range(ANSWERS_PER_HOUR)
    )
    assert answered == ANSWERS_PER_HOUR
    assert state.may_answer(requester, uuid.uuid4(), T0 + 3_600_001)
