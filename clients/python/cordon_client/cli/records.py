"""Shared by `cordon cases …` and `cordon prenotifications …`: sync, load, print items.

Every command opens the device through `cli.common.open_client` (``--home``/``$CORDON_HOME``,
default ``~/.cordon``; ``$CORDON_PASSPHRASE`` or a prompt; the profile's server or
``--server``/``$CORDON_SERVER``), syncs, and then acts on what this device decrypted and
verified. The group is the first argument, as everywhere. Exit status: 0 on success, 1 when
the client or the server refused (one line on stderr with a hint), 1 as well when a CSV import
skipped rows (the valid cases are still sent).
"""

from __future__ import annotations

import contextlib
import json
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from cordon_client._client import Cordon
from cordon_client.cli import output
from cordon_client.cli.common import GroupArg, run
from cordon_client.cli.output import Names
from cordon_client.exceptions import CordonClientError
from cordon_client.records import store
from cordon_client.records.view import Item

T = TypeVar("T")

Group = GroupArg
InFile = Annotated[Path, typer.Option("--file", "-f", exists=True, dir_okay=False)]
Format = Annotated[str, typer.Option("--format", help="csv or json")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Default: stdout.")]


def _console() -> Console:
    return output.console()


def _run(work: Callable[[Cordon], Awaitable[T]]) -> T:
    """`common.run` after a sync of the record store (the views and typed seqs read it)."""
    return run(work, prepare=store.sync)


async def mark_read(cordon: Cordon, item: Item) -> None:
    """Tell the sender this user viewed `item` (not for one's own or a refused item); a
    refusal leaves what is shown as it is."""
    _, own_device = store.whoami(cordon)
    if item.valid and item.sender_device_id not in (None, own_device):
        with contextlib.suppress(CordonClientError):
            await cordon.mark_read(item.group_id, item.seq)


def _load(path: Path) -> dict[str, Any]:
    import yaml

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


async def senders(cordon: Cordon, group: uuid.UUID) -> Names:
    """Who posted, by user id: the verified roster named from the server's directory, a
    service account marked as one, so members can tell an import from an officer
    (docs/operations.md)."""
    return {m.user_id: m for m in await cordon.members(group)}


def _who(item: Item, names: Names | None = None) -> str:
    """The sender as the roster labels them, else their id (a former member)."""
    if not item.sender_user_id:
        return "server"
    member = (names or {}).get(item.sender_user_id)
    return member.label if member is not None else str(item.sender_user_id)


def _mark(item: Item) -> str:
    return "[green]verified[/green]" if item.valid else f"[red]refused[/red]: {item.error}"
