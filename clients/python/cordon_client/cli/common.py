"""The one way every `cordon` command opens the device and reports refusals.

Where the device lives: `--home` (or ``$CORDON_HOME``, default ``~/.cordon``); which server:
`--server` (or ``$CORDON_SERVER``, default the profile's); the keystore passphrase:
``$CORDON_PASSPHRASE`` or a hidden prompt. Expected failures end with a one-line reason and
exit status 1, never a traceback.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from cordon_client._client import Cordon
from cordon_client.account.state import KEYSTORE
from cordon_client.cli import ids, output
from cordon_client.exceptions import ApiError, CordonClientError, CryptoError

GroupArg = Annotated[
    uuid.UUID,
    typer.Argument(
        help="Group: its name, a unique id prefix (as `cordon groups` shows) or the full id.",
        show_default=False,
        metavar="GROUP",
        parser=ids.parse_group,
    ),
]
"""The group, positional in every command that acts on one (`cordon cases list GROUP`)."""

T = TypeVar("T")


@dataclass
class Options:
    """Global options set by the root command (the environment fills in when it is absent)."""

    home: Path | None = None
    server: str | None = None


# The root command's options for this invocation. Not looked up through a click context:
# typer bundles its own click, so the separate `click` package never sees typer's context (and
# `--server` / `--home` were silently ignored). A context variable keeps concurrent in-process
# invocations (tests run several CLIs in threads) apart.
_OPTIONS: ContextVar[Options] = ContextVar("cordon_cli_options")


def set_options(given: Options) -> None:
    """Record the global options; the root callback runs before every command."""
    _OPTIONS.set(given)


def options() -> Options:
    """The options of the command being run (empty when no root command set them)."""
    return _OPTIONS.get(Options())


def console() -> Console:
    """Output for humans: no auto-highlighting, long lines kept whole, no colour under
    ``NO_COLOR``."""
    return output.console()


def home() -> Path:
    """The device's state directory."""
    return options().home or Path(os.environ.get("CORDON_HOME") or Path.home() / ".cordon")


def passphrase(*, new: bool = False) -> str:
    """The keystore passphrase: $CORDON_PASSPHRASE, else a hidden prompt (none when unused)."""
    given = os.environ.get("CORDON_PASSPHRASE")
    if given:
        return given
    if (home() / KEYSTORE).exists():
        return str(typer.prompt("Keystore passphrase", hide_input=True))
    if new:
        return str(
            typer.prompt("New keystore passphrase", hide_input=True, confirmation_prompt=True)
        )
    return ""


def open_client(*, new_keystore: bool = False) -> Cordon:
    """The device in the state directory, unlocked; `new_keystore` when logging in creates it."""
    server = options().server or os.environ.get("CORDON_SERVER") or None
    return Cordon(home(), passphrase(new=new_keystore), server=server)


def fail(message: str) -> NoReturn:
    """Print a refusal in red and exit 1."""
    console().print(f"[red]{escape(message)}[/red]")
    raise typer.Exit(1)


def refusal(exc: CordonClientError) -> str:
    """One line a user can act on, for an error the client raised on purpose."""
    if isinstance(exc, ApiError):
        return f"error {exc.code}: {exc.detail}"
    if isinstance(exc, CryptoError):
        return exc.reason
    return str(exc)


def run(work: Callable[[Cordon], Awaitable[T]], *, new_keystore: bool = False) -> T:
    """Open the client, run `work`, close it; refusals become a red line and exit 1."""

    async def main() -> T:
        async with open_client(new_keystore=new_keystore) as cordon:
            await ids.resolve(cordon)
            return await work(cordon)

    try:
        return asyncio.run(main())
    except CordonClientError as exc:
        fail(refusal(exc))
