"""Ids as people type them: a unique prefix of a UUID (hyphens optional) or a seq number.

Tables show the shortest prefix (at least `MIN_PREFIX` hex digits) that tells an id apart from
the others listed, so what a table shows can be typed back. The full id always works.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from cordon_client.exceptions import UnknownIdError

MIN_PREFIX = 6  # short enough to type, long enough to rarely need more


def _hex(text: str) -> str:
    return text.replace("-", "").strip().lower()


def short(value: uuid.UUID, among: Iterable[uuid.UUID] = ()) -> str:
    """The shortest prefix of `value` (≥ MIN_PREFIX hex digits) no other id in `among` shares."""
    mine = value.hex
    others = [o.hex for o in among if o != value]
    size = MIN_PREFIX
    while size < len(mine) and any(o.startswith(mine[:size]) for o in others):
        size += 1
    return mine[:size]


def matches(typed: str, candidates: Mapping[uuid.UUID, str]) -> list[uuid.UUID]:
    """The candidates `typed` names: the one whose name equals it (case-folded), else those
    whose id starts with it."""
    wanted = typed.strip()
    named = [i for i, name in candidates.items() if name and name.casefold() == wanted.casefold()]
    if len(named) == 1:
        return named
    prefix = _hex(wanted)
    return named or (
        [i for i in candidates if i.hex.startswith(prefix)]
        if prefix and all(c in "0123456789abcdef" for c in prefix)
        else []
    )


def match(typed: str, candidates: Mapping[uuid.UUID, str], *, what: str) -> uuid.UUID:
    """The one candidate whose id starts with `typed` (or whose name equals it, case-folded).

    `candidates` maps each id to a name (a username, a group name; "" when none).

    Raises:
        UnknownIdError: nothing matches, or several do (the message lists them).
    """
    wanted = typed.strip()
    hits = matches(typed, candidates)
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise UnknownIdError(f"no {what} matches {wanted!r}")
    shown = ", ".join(short(h, candidates) for h in sorted(hits, key=str)[:5])
    raise UnknownIdError(
        f"{wanted!r} matches {len(hits)} {what}s ({shown}{', …' if len(hits) > 5 else ''}): "
        "type more of the id"
    )


def parse_seq(typed: str) -> int | None:
    """`typed` as a seq number (`23` or `#23`), or None when it is not one."""
    text = typed.strip().removeprefix("#")
    return int(text) if text.isdigit() and len(text) <= 15 else None
