"""The size of one HISTORY_GRANT envelope (PROTOCOL.md §9.1): `GRANT_CHUNK` items, each with
the largest item key, sealed to a member with many devices, fit the server's envelope limit;
a grant as large as an operation's cases (Operation STOP II had 2,769) would not in one."""

from __future__ import annotations

import hashlib
import uuid

from cordon_client.crypto.history import (
    BROADCAST_ITEM_KEY,
    MAX_GRANT_ITEMS,
    GrantedItem,
    HistoryGrant,
)
from cordon_client.messaging.history import GRANT_CHUNK

from app.core.config import Settings

from .helpers import T0, make_group

STOP_II_CASES = 2_769


def _items(n: int) -> tuple[GrantedItem, ...]:
    big = 2**40  # a u64 seq costs 8 bytes whatever its value
    return tuple(
        GrantedItem(
            big + i,
            uuid.uuid4(),
            uuid.uuid4(),
            hashlib.sha256(str(i).encode()).digest(),
            bytes(BROADCAST_ITEM_KEY),
        )
        for i in range(n)
    )


def test_one_grant_envelope_of_grant_chunk_items_fits_the_server_limit() -> None:
    limit = Settings().envelope_max_bytes
    assert limit == 262_144
    assert 0 < GRANT_CHUNK <= MAX_GRANT_ITEMS
    g = make_group(0)
    boss = g.add_member(role="coordinator")
    late = g.add_member(devices=8)  # a member with many devices: one wrap each
    g.writer.grant_history(g.root, late.member_id, T0 + 1, "cases")
    boss_s = g.session(next(iter(boss.devices)))
    devices = list(late.devices)
    recipients = boss_s.recipients_for(g.served_prekeys(), now_ms=T0 + 2, devices=devices)
    items = _items(STOP_II_CASES)

    def sealed(part: tuple[GrantedItem, ...]) -> bytes:
        grant = HistoryGrant(late.member_id, "cases", part)
        return boss_s.grant_history(grant, recipients, now_ms=T0 + 2)

    whole = sealed(items)
    assert len(whole) > limit  # one envelope would be refused (413)
    parts = [items[i : i + GRANT_CHUNK] for i in range(0, len(items), GRANT_CHUNK)]
    assert [len(p) for p in parts] == [1_000, 1_000, 769]
    sizes = [len(sealed(p)) for p in parts]
    assert max(sizes) <= limit, sizes
    for envelope in map(sealed, parts):  # each part opens as a whole grant on any device
        late_s = g.session(devices[-1])
        HistoryGrant.from_bytes(late_s.decrypt(envelope).content)
