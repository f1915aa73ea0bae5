"""Removal, revocation and the history policy."""

from __future__ import annotations

import uuid

import pytest
from cordon_client.crypto import ContentType, DocumentKey
from cordon_client.exceptions import (
    CryptoError,
    KeyUnavailableError,
    StaleChainError,
    StaleEpochError,
    UntrustedSenderError,
)

from .helpers import T0, make_group


def test_removed_member_cannot_read_after_rotation() -> None:
    """After remove_member and rotation, the removed device opens neither broadcasts nor wraps."""
    g = make_group(3)
    a_id, b_id, c_id = g.device_ids()
    a, b, c = g.session(a_id), g.session(b_id), g.session(c_id)
    dist = a.rotate_sender_chain(g.recipients(a), now_ms=T0 + 1)
    b.decrypt(dist)
    c.decrypt(dist)
    g.writer.remove_member(g.root, g.members[2].member_id, T0 + 2)
    a.update_roster(g.roster())
    b.update_roster(g.roster())
    assert a.needs_rotation(T0 + 3)
    with pytest.raises(StaleChainError):
        a.encrypt_broadcast(ContentType.MESSAGE, b"secret", now_ms=T0 + 3)
    recips = a.recipients_for(g.served_prekeys(), now_ms=T0 + 3)
    assert c_id not in {r.device_id for r in recips}
    b.decrypt(a.rotate_sender_chain(recips, now_ms=T0 + 3))
    bc = a.encrypt_broadcast(ContentType.MESSAGE, b"secret", now_ms=T0 + 4)
    tg = a.encrypt_targeted(ContentType.PRENOTIFICATION, b"secret", recips, now_ms=T0 + 4)
    assert b.decrypt(bc).content == b"secret"
    for env in (bc, tg):
        with pytest.raises(CryptoError):
            c.decrypt(env)
        assert b"secret" not in env
    # Even after fetching the new log, C holds no key for the new chain.
    c.update_roster(g.roster())
    with pytest.raises(KeyUnavailableError):
        c.decrypt(bc)


def test_revoked_device_cannot_read_or_send() -> None:
    """A revoked device gets no new keys and its envelopes are refused."""
    g = make_group(2, devices_per_member=2)
    ids = g.device_ids()
    a, victim = g.session(ids[0]), g.session(ids[3])
    victim.decrypt(a.rotate_sender_chain(g.recipients(a), now_ms=T0 + 1))
    to_a = victim.recipients_for(g.served_prekeys(), now_ms=T0 + 1, devices=[ids[0]])
    g.writer.revoke_device(g.root, g.members[1].member_id, ids[3], T0 + 2)
    late = victim.encrypt_targeted(ContentType.MESSAGE, b"x", to_a, now_ms=T0 + 3)
    a.update_roster(g.roster())
    victim.update_roster(g.roster())
    a.rotate_sender_chain(
        a.recipients_for(g.served_prekeys(), now_ms=T0 + 3, devices=ids[1:3]), now_ms=T0 + 3
    )
    with pytest.raises(KeyUnavailableError):
        victim.decrypt(a.encrypt_broadcast(ContentType.MESSAGE, b"x", now_ms=T0 + 4))
    with pytest.raises(StaleEpochError, match="before the removal at seq"):
        a.decrypt(late)
    with pytest.raises(UntrustedSenderError):
        victim.encrypt_targeted(ContentType.MESSAGE, b"x", to_a, now_ms=T0 + 4)
    with pytest.raises(UntrustedSenderError):
        a.recipients_for(g.served_prekeys(), now_ms=T0 + 3, devices=[ids[3]])


def test_receiver_rejects_pre_removal_chain_under_new_epoch() -> None:
    """A sender that keeps its old chain after a removal is caught by receivers."""
    g = make_group(3)
    a_id, b_id, _ = g.device_ids()
    a, b = g.session(a_id), g.session(b_id)
    b.decrypt(a.rotate_sender_chain(g.recipients(a), now_ms=T0 + 1))
    g.writer.remove_member(g.root, g.members[2].member_id, T0 + 2)
    lazy = g.session(a_id)
    lazy.sender_chain = a.sender_chain
    b.update_roster(g.roster())
    from cordon_client.crypto.envelope import seal_broadcast

    assert lazy.sender_chain is not None
    env = seal_broadcast(
        signing_key=g.key_of(a_id),
        sender_device_id=a_id,
        group_id=g.group_id,
        epoch_id=g.roster().epoch_id,
        content_type=ContentType.MESSAGE,
        content=b"x",
        chain=lazy.sender_chain,
        ts=T0 + 3,
    )
    with pytest.raises(StaleChainError):
        b.decrypt(env)


def test_new_member_sees_no_earlier_chat() -> None:
    """A member added later cannot decrypt broadcasts sent before they joined."""
    g = make_group(2)
    a_id, _ = g.device_ids()
    a = g.session(a_id)
    a.rotate_sender_chain(g.recipients(a), now_ms=T0 + 1)
    old = a.encrypt_broadcast(ContentType.MESSAGE, b"before", now_ms=T0 + 2)
    newcomer = g.add_member()
    n = g.session(next(iter(newcomer.devices)))
    with pytest.raises(CryptoError):
        n.decrypt(old)


def test_library_grant_requires_logged_grant() -> None:
    """Document keys reach a new member only after a logged grant_history, from a coordinator."""
    g = make_group(0)
    boss = g.add_member(role="coordinator")
    newbie = g.add_member()
    boss_s = g.session(next(iter(boss.devices)))
    nid = next(iter(newbie.devices))
    key = DocumentKey(uuid.uuid4(), 1, bytes(range(32)), bytes(32))
    recips = boss_s.recipients_for(g.served_prekeys(), now_ms=T0 + 1, devices=[nid])
    with pytest.raises(UntrustedSenderError):
        boss_s.grant_library(newbie.member_id, [key], recips, now_ms=T0 + 1)
    g.writer.grant_history(g.root, newbie.member_id, T0 + 1)
    boss_s.update_roster(g.roster())
    env = boss_s.grant_library(newbie.member_id, [key], recips, now_ms=T0 + 2)
    newbie_s = g.session(nid)
    newbie_s.decrypt(env)
    assert newbie_s.document_keys[(key.document_id, 1)] == key


def test_history_transfer_only_between_own_devices() -> None:
    """A member's new device receives chains and keys from its own device, not from others."""
    g = make_group(2)
    a_id, b_id = g.device_ids()
    a, b = g.session(a_id), g.session(b_id)
    b.decrypt(a.rotate_sender_chain(g.recipients(a), now_ms=T0 + 1))
    member_b = g.members[1]
    new_id = g.add_device(member_b)
    b.update_roster(g.roster())
    a.update_roster(g.roster())
    new = g.session(new_id)
    target = b.recipients_for(g.served_prekeys(), now_ms=T0 + 2, devices=[new_id])
    new.decrypt(b.transfer_history(b.export_history(b"archive"), target[0], now_ms=T0 + 2))
    hello = a.encrypt_broadcast(ContentType.MESSAGE, b"hi", now_ms=T0 + 3)
    assert new.decrypt(hello).content == b"hi"
    with pytest.raises(UntrustedSenderError):
        a.transfer_history(a.export_history(), target[0], now_ms=T0 + 2)
