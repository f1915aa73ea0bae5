"""Ids as a person types them on the command line: a unique prefix, a seq, a name.

Typer parses arguments before the client is open, so a short form becomes a `TypedId`: a
UUID that is filled in by `resolve` once the client is open (`common.run` and
`records._run` call it first). Commands keep passing plain UUIDs to the SDK. A full UUID is
taken as typed, without a lookup. Groups resolve by prefix or name, users by username or
prefix (members and join requests), devices by prefix (the verified roster), documents by
prefix, pre-notifications by seq or prefix. Anything unknown or ambiguous ends the command
with one line (`UnknownIdError`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Annotated, Any

import typer

from cordon_client._client import Cordon
from cordon_client.exceptions import UnknownIdError
from cordon_client.groups import shortid


class TypedId(uuid.UUID):
    """A UUID known only by what was typed until `resolve` fills it in."""

    kind: str
    typed: str

    def __init__(self, kind: str, typed: str) -> None:
        uuid.UUID.__init__(self, int=0)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "typed", typed)

    def fill(self, value: uuid.UUID) -> None:
        """Become `value` (UUIDs are immutable by convention; this one is filled once)."""
        object.__setattr__(self, "int", value.int)


def shown(value: uuid.UUID) -> str:
    """What the person typed for `value` (the full id when they typed it whole)."""
    return value.typed if isinstance(value, TypedId) else str(value)


# What this invocation typed: the refs to resolve, and the group the command acts on.
_PENDING: ContextVar[list[TypedId]] = ContextVar("cordon_cli_pending_ids")
_GROUP: ContextVar[list[uuid.UUID]] = ContextVar("cordon_cli_group")


def _pending() -> list[TypedId]:
    try:
        return _PENDING.get()
    except LookupError:
        _PENDING.set([])
        return _PENDING.get()


def _full(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        return None


def parse_group(text: str) -> uuid.UUID:
    """A group argument: a full id, a unique id prefix, or the group's name."""
    value: uuid.UUID = _full(text) or TypedId("group", text)
    if isinstance(value, TypedId):
        _pending().insert(0, value)  # groups first: the others are looked up in the group
    _GROUP.set([value])
    return value


parse_group.__name__ = "group"  # --help shows a parser's name as the argument's type


def parser(kind: str) -> Callable[[str], uuid.UUID]:
    """A parser for an id inside the command's group (user, device, document,
    prenotification)."""

    def parse(text: str) -> uuid.UUID:
        full = _full(text)
        if full is not None:
            return full
        ref = TypedId(kind, text)
        _pending().append(ref)
        return ref

    parse.__name__ = kind
    return parse


def _group() -> uuid.UUID:
    try:
        return _GROUP.get()[0]
    except (LookupError, IndexError):
        raise UnknownIdError("give the group first, then the id") from None


async def _groups(cordon: Cordon, typed: str) -> uuid.UUID:
    rows = await cordon.groups()
    return shortid.match(
        typed, {uuid.UUID(str(g["id"])): str(g.get("name", "")) for g in rows}, what="group"
    )


async def _device(cordon: Cordon, typed: str) -> uuid.UUID:
    roster = await cordon.roster(_group())
    return shortid.match(typed, {d.device_id: "" for d in roster.devices()}, what="device")


async def _document(cordon: Cordon, typed: str) -> uuid.UUID:
    docs = await cordon.library_documents(_group())
    return shortid.match(typed, {d.id: "" for d in docs}, what="document")


async def _prenotification(cordon: Cordon, typed: str) -> uuid.UUID:
    """From the archive `records._run` has just synced; the server's list (every page of it)
    only when some pre-notification's id is known to the server alone."""
    # Imported here: they bring the record store, the templates and JSON Schema, which every
    # top-level verb (whose runner is `common.run`) would otherwise load at start-up.
    from cordon_client import prenotifications as pn_ops
    from cordon_client.records.store import archived
    from cordon_client.records.view import build_prenotifications

    views = build_prenotifications(archived(cordon, _group()))
    if any(v.id is None for v in views):
        views = await pn_ops.prenotifications(cordon, _group())
    seq = shortid.parse_seq(typed)
    by_id = {uuid.UUID(v.id): v for v in views if v.id}
    if seq is not None:
        hits = [i for i, v in by_id.items() if v.seq == seq]
        if hits:
            return hits[0]
    return shortid.match(typed, dict.fromkeys(by_id, ""), what="pre-notification")


async def _user(cordon: Cordon, typed: str) -> uuid.UUID:
    return await cordon.find_user(_group(), typed)


_RESOLVERS: dict[str, Callable[[Cordon, str], Any]] = {
    "group": _groups,
    "user": _user,
    "device": _device,
    "document": _document,
    "prenotification": _prenotification,
}


async def resolve(cordon: Cordon) -> None:
    """Fill in every id this invocation typed short (groups first)."""
    pending = _pending()
    while pending:
        ref = pending.pop(0)
        ref.fill(await _RESOLVERS[ref.kind](cordon, ref.typed))


PrenotificationArg = Annotated[
    uuid.UUID,
    typer.Argument(
        help="Pre-notification: its seq (as listed), a unique id prefix or the full id.",
        show_default=False,
        metavar="PRENOTIFICATION",
        parser=parser("prenotification"),
    ),
]
DocumentArg = Annotated[
    uuid.UUID,
    typer.Argument(
        help="Document: a unique id prefix (as `library ls` shows) or the full id.",
        show_default=False,
        metavar="DOCUMENT",
        parser=parser("document"),
    ),
]
