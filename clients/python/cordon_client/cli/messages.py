"""`cordon send|receive|listen|receipts`: messages in a group, fetched or live, and who
received and read what you sent. Showing an item sends its sender a read receipt."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape

from cordon_client._client import Cordon, Incoming
from cordon_client.cli import common as common
from cordon_client.cli import errors, ids, output
from cordon_client.cli.common import GroupArg
from cordon_client.exceptions import CordonClientError, ExcludedDeviceError
from cordon_client.groups.directory import GroupMember

READ_KINDS = {"alert", "chat"}

app = typer.Typer()


@app.command()
def send(
    group: GroupArg,
    text: str,
    to: Annotated[
        list[uuid.UUID] | None,
        typer.Option(
            "--to",
            help="Only this member: username or user id prefix (repeatable).",
            parser=ids.parser("user"),
        ),
    ] = None,
    chat: Annotated[bool, typer.Option("--chat", help="A chat message, not an alert.")] = False,
    urgent: Annotated[bool, typer.Option("--urgent")] = False,
    reply_to: Annotated[int | None, typer.Option(help="Seq of the item answered.")] = None,
) -> None:
    """Encrypt and send an alert (or a chat message) to the group or to some members."""
    kind = "chat" if chat else "alert"

    async def work(c: Cordon) -> tuple[int, list[ExcludedDeviceError]]:
        seq = await c.send(
            group, text, kind=kind, to_users=to or None, parent_seq=reply_to, urgent=urgent
        )
        return seq, c.excluded

    seq, excluded = common.run(work)
    common.console().print(f"sent #{seq}")
    for left_out in excluded:
        common.console().print(f"[yellow]warning: {escape(left_out.reason)}[/yellow]")


Names = dict[uuid.UUID, GroupMember]


class _Context:
    """Group names and verified members for the groups items arrive in, fetched once each."""

    def __init__(self, cordon: Cordon) -> None:
        self._cordon = cordon
        self._groups: dict[uuid.UUID, str] | None = None
        self._names: dict[uuid.UUID, Names] = {}

    async def group(self, group_id: uuid.UUID) -> str:
        if self._groups is None:
            rows = await self._cordon.groups()
            self._groups = {uuid.UUID(str(g["id"])): str(g.get("name", "")) for g in rows}
        return self._groups.get(group_id) or str(group_id)[:8]

    async def names(self, group_id: uuid.UUID) -> Names:
        if group_id not in self._names:
            try:
                members = await self._cordon.members(group_id, reread=False)
            except CordonClientError:  # a frozen or unpinned group: ids stay ids
                members = []
            self._names[group_id] = {m.user_id: m for m in members}
        return self._names[group_id]


def _readable(item: Incoming) -> bool:
    """Content someone else sent that this user now sees: worth a read receipt."""
    return item.verified and not item.own and item.event is None and item.kind in READ_KINDS


async def _mark_read(cordon: Cordon, items: list[Incoming]) -> str | None:
    """Send read receipts for what was shown, per group in one request; a refusal is
    returned as a warning (what was received stands)."""
    by_group: dict[uuid.UUID, list[int]] = {}
    for item in items:
        if _readable(item):
            by_group.setdefault(item.group_id, []).append(item.seq)
    try:
        for group_id, seqs in by_group.items():
            await cordon.mark_read(group_id, *seqs)
    except CordonClientError as exc:
        return f"could not send read receipts: {errors.describe(exc).message}"
    return None


@app.command()
def receive(as_json: output.JsonFlag = False) -> None:
    """Fetch, verify and decrypt everything new once, show it, and tell senders you read it."""

    async def work(cordon: Cordon) -> list[tuple[Incoming, str, Names]]:
        items = await cordon.receive(read_kinds=READ_KINDS)  # "read" with the acknowledgement
        context = _Context(cordon)
        return [
            (i, await context.group(i.group_id), await context.names(i.group_id)) for i in items
        ]

    shown = common.run(work)
    if as_json:
        output.print_json([output.item_json(i, group=g, names=n) for i, g, n in shown])
        return
    size = output.width()
    lines = [
        line
        for item, group, names in shown
        for line in output.item_lines(item, group=group, names=names, size=size)
    ]
    common.console().print("\n".join(lines) if lines else "nothing new")  # one render, not 1/line


@app.command()
def listen(
    max_items: Annotated[
        int | None, typer.Option(help="Stop after this many messages (events don't count).")
    ] = None,
    seconds: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per line, for scripts.")
    ] = False,
) -> None:
    """Show items live as they arrive (verified, decrypted, once each) until stopped."""
    out = common.console()
    size = output.width()

    async def work(cordon: Cordon) -> None:
        count = 0
        context = _Context(cordon)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds), cordon.listen() as items:
                async for item in items:
                    group, names = (
                        await context.group(item.group_id),
                        await context.names(item.group_id),
                    )
                    if as_json:
                        output.print_json_line(output.item_json(item, group=group, names=names))
                    else:
                        for line in output.item_lines(item, group=group, names=names, size=size):
                            out.print(line)
                    warning = await _mark_read(cordon, [item])
                    if warning and not as_json:
                        out.print(f"[yellow]warning: {escape(warning)}[/yellow]")
                    count += item.event is None
                    if max_items is not None and count >= max_items:
                        break

    try:
        common.run(work)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


@app.command()
def receipts(
    group: GroupArg,
    seq: Annotated[
        int, typer.Argument(help="Seq of an item you sent (`#12` in receive).", metavar="SEQ")
    ],
    as_json: output.JsonFlag = False,
) -> None:
    """For an item you sent: which members received it and which read it."""

    async def work(cordon: Cordon) -> tuple[list[dict[str, object]], list[GroupMember], str]:
        profile, _ = cordon.state.require()
        return await cordon.receipts(group, seq), await cordon.members(group), profile.user_id

    rows, members, sender = common.run(work)
    if as_json:
        output.print_json(rows)
        return
    by_user: dict[str, dict[str, object]] = {}
    for row in rows:
        seen = by_user.setdefault(str(row["user_id"]), {"delivered_at": None, "read_at": None})
        for field in ("delivered_at", "read_at"):
            if row.get(field) and (seen[field] is None or str(row[field]) < str(seen[field])):
                seen[field] = row[field]
    names = {str(m.user_id): m for m in members}
    read = sum(1 for r in by_user.values() if r["read_at"])
    out = common.console()
    out.print(f"#{seq}: received by {len(by_user)}, read by {read}")
    for user_id, seen in sorted(by_user.items(), key=lambda kv: str(kv[1]["delivered_at"])):
        member = names.get(user_id)
        who = member.label if member else user_id
        got = f"received {_clock(seen['delivered_at'])}"
        done = f", read {_clock(seen['read_at'])}" if seen["read_at"] else ", not read yet"
        out.print(f"  [bold]{escape(who)}[/bold]\n    {got}{done}")
    for m in members:  # the sender asks for no receipt of her own item
        if m.certified and str(m.user_id) not in by_user and str(m.user_id) != str(sender):
            out.print(f"  [dim]{escape(m.label)}: not received yet[/dim]")


def _clock(value: object) -> str:
    """A server timestamp as local date and time."""
    try:
        return datetime.fromisoformat(str(value)).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(value)
