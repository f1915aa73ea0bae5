"""`cordon send|receive|listen`: messages in a group, fetched or live."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cordon_client._client import Cordon, Incoming
from cordon_client.cli import common as common
from cordon_client.cli.common import GroupArg
from cordon_client.exceptions import ExcludedDeviceError

app = typer.Typer()


@app.command()
def send(
    group: GroupArg,
    text: str,
    to: Annotated[
        list[uuid.UUID] | None, typer.Option("--to", help="Only these users (repeatable).")
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


def _status(item: Incoming) -> str:
    if item.verified:
        return "[green]verified[/green]"
    if item.error is not None:
        return f"[red]NOT VERIFIED: {escape(item.error)}[/red]"
    return "server event"


def _body(item: Incoming) -> str:
    if item.event is not None:
        return escape(json.dumps(item.event, separators=(",", ":")))
    return escape(item.text or "")


def _when(item: Incoming) -> str:
    return item.created_at.astimezone().strftime("%H:%M:%S") if item.created_at else "-"


@app.command()
def receive() -> None:
    """Fetch, verify and decrypt everything new once, and show it as a table."""
    items = common.run(lambda c: c.receive())
    table = Table("time", "group", "#", "sender", "kind", "status", "text")
    for i in items:
        table.add_row(
            _when(i),
            str(i.group_id),
            str(i.seq),
            str(i.sender_user_id or "server"),
            i.kind + (" [bold red]URGENT[/bold red]" if i.urgent else ""),
            _status(i),
            _body(i),
        )
    common.console().print(table)


def _line(item: Incoming) -> str:
    urgent = "[bold red]URGENT[/bold red] " if item.urgent else ""
    head = (
        f"[dim]{_when(item)}[/dim] {item.group_id} #{item.seq} "
        f"{item.sender_user_id or 'server'} {item.kind} {urgent}"
    )
    if item.error is not None:
        return f"{head}[red]NOT VERIFIED: {escape(item.error)}[/red]"
    mark = "[green]verified[/green] " if item.verified else ""
    return f"{head}{mark}{_body(item)}"


@app.command()
def listen(
    max_items: Annotated[
        int | None, typer.Option(help="Stop after this many messages (events don't count).")
    ] = None,
    seconds: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
) -> None:
    """Show items live as they arrive (verified, decrypted, once each) until stopped."""
    out = common.console()

    async def work(cordon: Cordon) -> None:
        count = 0
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds), cordon.listen() as items:
                async for item in items:
                    out.print(_line(item))
                    count += item.event is None
                    if max_items is not None and count >= max_items:
                        break

    try:
        common.run(work)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
