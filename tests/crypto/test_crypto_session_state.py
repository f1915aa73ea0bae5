"""A session's secret state survives a restart through export_state / restore_state."""

from __future__ import annotations

import pytest
from cordon_client.crypto import ContentType
from cordon_client.exceptions import MalformedError, ReplayError

from .helpers import T0, make_group


def test_restored_session_keeps_chains_and_replay_cache() -> None:
    """After a restore, the sender keeps its chain, and the receiver decrypts new broadcasts
    and still refuses a replay of one it had already accepted."""
    g = make_group(2)
    a_id, b_id = g.device_ids()
    a, b = g.session(a_id), g.session(b_id)
    b.decrypt(a.rotate_sender_chain(g.recipients(a), now_ms=T0 + 1))
    first = a.encrypt_broadcast(ContentType.ALERT, b"one", now_ms=T0 + 2)
    assert b.decrypt(first).content == b"one"

    a2, b2 = g.session(a_id), g.session(b_id)
    a2.restore_state(a.export_state())
    b2.restore_state(b.export_state())
    second = a2.encrypt_broadcast(ContentType.ALERT, b"two", now_ms=T0 + 3)
    assert b2.decrypt(second).content == b"two"
    with pytest.raises(ReplayError):
        b2.decrypt(first)


def test_garbled_state_is_refused() -> None:
    """A corrupted state blob is a clear error, not a half-restored session."""
    g = make_group(1)
    session = g.session(g.device_ids()[0])
    with pytest.raises(MalformedError):
        session.restore_state(b"\x00\x00\x00\x05abc")


def test_replay_cache_keeps_its_format_both_ways() -> None:
    """The replay cache is still `enc(enc(device, message), …)`: what earlier versions wrote
    restores here (an accepted item is still a replay), and what this one writes is exactly
    that encoding, so an earlier client reads it too."""
    from cordon_client.crypto._encoding import decode, encode

    g = make_group(2)
    a_id, b_id = g.device_ids()
    a, b = g.session(a_id), g.session(b_id)
    b.decrypt(a.rotate_sender_chain(g.recipients(a), now_ms=T0 + 1))
    first = a.encrypt_broadcast(ContentType.ALERT, b"one", now_ms=T0 + 2)
    b.decrypt(first)
    sender, receivers, documents, seen = decode(b.export_state())
    entries = [decode(entry) for entry in decode(seen)]
    assert len(entries) == 2 and all(len(d) == len(m) == 16 for d, m in entries)
    assert seen == encode(*(encode(d, m) for d, m in entries))

    b2 = g.session(b_id)
    b2.restore_state(
        encode(sender, receivers, documents, encode(*(encode(d, m) for d, m in entries)))
    )
    with pytest.raises(ReplayError):
        b2.decrypt(first)


@pytest.mark.parametrize("seen", [bytes(44), bytes(43), b"\x00\x00\x00\x28" + bytes(40)])
def test_a_garbled_replay_cache_is_refused(seen: bytes) -> None:
    from cordon_client.crypto._encoding import decode, encode

    g = make_group(1)
    session = g.session(g.device_ids()[0])
    fields = decode(session.export_state())
    with pytest.raises(MalformedError):
        session.restore_state(encode(*fields[:3], seen))
