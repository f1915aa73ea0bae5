"""The one way every `cordon` command opens the device and reports refusals.

Where the device lives: `--home` (or ``$CORDON_HOME``, default ``~/.cordon``); which server:
`--server` (or ``$CORDON_SERVER``, default the profile's); the keystore passphrase:
``$CORDON_PASSPHRASE`` or a hidden prompt, its key then kept in the unlock file
(`account.unlock`), or for a service account the credential in `--credential-file`, which
also renews its token (no prompt, no unlock file). Expected failures end
with a one-line reason and exit status 1, never a traceback (`cli.errors` words them;
`--debug` shows the traceback).
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
from cordon_client.account.unlock import DEFAULT_MINUTES, MAX_MINUTES, UnlockFile, unlock_path
from cordon_client.cli import errors, ids, output

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
    credential_file: Path | None = None  # a service account's (docs/operations.md)


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


def credential() -> str | None:
    """A service account's credential, read from `--credential-file` (None without one)."""
    path = options().credential_file
    if path is None:
        return None
    try:
        text = path.read_text("utf-8").strip()
    except OSError as exc:
        fail(f"cannot read the credential file {path}: {exc.strerror}")
    if not text.startswith("cdn_sa_"):
        fail(f"{path} does not hold a service account credential (cdn_sa_…)")
    return text


def passphrase(*, new: bool = False) -> str:
    """The keystore passphrase: a service account's credential (its keystore is sealed
    under it, so cron needs no prompt), else $CORDON_PASSPHRASE, else a hidden prompt (none
    when unused)."""
    machine = credential()
    if machine is not None:
        return machine
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


def unlock_minutes() -> int:
    """How long an unlock serves: $CORDON_UNLOCK_MINUTES (0 turns it off), default 15."""
    raw = os.environ.get("CORDON_UNLOCK_MINUTES", "").strip()
    if not raw:
        return DEFAULT_MINUTES
    if not raw.isdigit() or int(raw) > MAX_MINUTES:
        fail(f"CORDON_UNLOCK_MINUTES must be a whole number of minutes from 0 to {MAX_MINUTES}")
    return int(raw)


def unlock_file() -> UnlockFile:
    """The unlock file of the state directory (`account.unlock`)."""
    return UnlockFile(unlock_path(home()), unlock_minutes())


def _ask_passphrase(unlock: UnlockFile, *, new: bool) -> Callable[[], str]:
    """The passphrase, asked for only when no sound unlock file serves; says why a file that
    was there was not used."""

    def ask() -> str:
        if unlock.refused is not None:
            Console(stderr=True, highlight=False).print(
                f"[yellow]unlock file ignored: {escape(unlock.refused)}[/yellow]"
            )
            unlock.refused = None
        return passphrase(new=new)

    return ask


def open_client(*, new_keystore: bool = False) -> Cordon:
    """The device in the state directory, unlocked; `new_keystore` when logging in creates it."""
    server = options().server or os.environ.get("CORDON_SERVER") or None
    machine = credential()
    if machine is not None:  # a service account: its credential is at hand, no unlock file
        return Cordon(home(), machine, server=server, credential=machine)
    unlock = unlock_file()
    ask = _ask_passphrase(unlock, new=new_keystore)
    return Cordon(home(), ask, server=server, unlock=unlock)


def fail(message: str, hint: str | None = None) -> NoReturn:
    """Print a refusal as one red line on stderr and exit 1."""
    line = errors.Problem(message, hint).line()
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[red]{escape(line)}[/red]")
    raise typer.Exit(1)


def run(
    work: Callable[[Cordon], Awaitable[T]],
    *,
    new_keystore: bool = False,
    prepare: Callable[[Cordon], Awaitable[object]] | None = None,
) -> T:
    """Open the client, run `prepare` (a sync that typed ids may need), resolve the typed ids,
    run `work`, close it; any failure becomes one red line and exit 1."""

    async def main() -> T:
        async with open_client(new_keystore=new_keystore) as cordon:
            if prepare is not None:
                await prepare(cordon)
            await ids.resolve(cordon)
            return await work(cordon)

    try:
        return asyncio.run(main())
    except (typer.Exit, typer.Abort, typer.BadParameter):
        raise
    except Exception as exc:  # noqa: BLE001 - worded by cli.errors; --debug re-raises
        errors.exit_for(exc)
