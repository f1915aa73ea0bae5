"""Shared by `cordon cases …` and `cordon prenotifications …`: sync, load, print items.

Every command opens the device through `cli.common.open_client` (``--home``/``$CORDON_HOME``,
default ``~/.cordon``; ``$CORDON_PASSPHRASE`` or a prompt; the profile's server or
``--server``/``$CORDON_SERVER``), syncs, and then acts on what this device decrypted and
verified. The group is the first argument, as everywhere. Exit status: 0 on success,
1 when the client or the server refused (the reason is printed), 1 as well when a CSV import skipped
rows (the valid cases are still sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from rich.console import Console
from rich.markup import escape

from cordon_client._client import Cordon
from cordon_client.cli import ids, output
from cordon_client.cli.common import GroupArg, open_client, refusal
from cordon_client.exceptions import CordonClientError
from cordon_client.records import store
from cordon_client.records.view import Item
from cordon_client.templates.registry import InvalidContentError

T = TypeVar("T")

Group = GroupArg
InFile = Annotated[Path, typer.Option("--file", "-f", exists=True, dir_okay=False)]
Format = Annotated[str, typer.Option("--format", help="csv or json")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Default: stdout.")]


def _console() -> Console:
    return output.console()


def _run(work: Callable[[Cordon], Awaitable[T]]) -> T:
    """Open the client, sync, run `work`, and turn refusals into a message and exit 1."""

    async def main() -> T:
        async with open_client() as cordon:
            await store.sync(cordon)
            await ids.resolve(cordon)
            return await work(cordon)

    try:
        return asyncio.run(main())
    except InvalidContentError as exc:
        out = _console()
        out.print("[red]refused:[/red] the content does not fit its template")
        for error in exc.errors:
            out.print(f"  {error}")
    except CordonClientError as exc:
        _console().print(f"[red]refused:[/red] {escape(refusal(exc))}")
    raise typer.Exit(1)


async def mark_read(cordon: Cordon, item: Item) -> None:
    """Tell the sender this user viewed `item` (not for one's own or a refused item); a
    refusal leaves what is shown as it is."""
    _, own_device = store.whoami(cordon)
    if item.valid and item.sender_device_id not in (None, own_device):
        with contextlib.suppress(CordonClientError):
            await cordon.mark_read(item.group_id, item.seq)


def _load(path: Path) -> dict[str, Any]:
    text = path.read_text("utf-8")
    data = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else json.loads(text)
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path} must hold one object")
    return data


@contextmanager
def _out(path: Path | None) -> Iterator[Any]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8", newline="") as fh:
        yield fh


def _who(item: Item) -> str:
    return str(item.sender_user_id) if item.sender_user_id else "server"


def _mark(item: Item) -> str:
    return "[green]verified[/green]" if item.valid else f"[red]refused[/red]: {item.error}"
