"""Every failure of a `cordon` command as one line on stderr with a hint, and exit status 1.

The entry points (`guarded`, run by `cli.entry.run` and `python -m cordon_client.cli.main`)
and the per-command runners (`common.run`, `records._run`) hand any exception to `exit_for`,
so a refused request, an unreachable server, a wrong passphrase or a bad file reads the same
everywhere; `guarded` also turns typer's usage errors (its box, exit status 2) into that one
line and exit 1.
`--debug` (a global option) lets the exception of a command through with its traceback.
"""

from __future__ import annotations

import json
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn, cast

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from cordon_client.exceptions import (
    ApiError,
    CordonClientError,
    CryptoError,
    KeystoreError,
    RealtimeError,
    WrongPassphraseError,
)

if TYPE_CHECKING:
    from cordon_client.templates.registry import InvalidContentError

DEBUG_HINT = "run again with --debug for the traceback"
# Where typer's click exceptions live: its own copy of click in recent versions, click itself
# before; found through a public typer class, so either layout works.
_click = sys.modules[typer.BadParameter.__module__]


@dataclass(frozen=True)
class Problem:
    """What went wrong, in words, and what the user can do about it."""

    message: str
    hint: str | None = None

    def line(self) -> str:
        """The single line printed on stderr."""
        return f"error: {self.message}" + (f" (hint: {self.hint})" if self.hint else "")


_CODE_HINTS = {
    "auth.invalid_credentials": "check the username and password (and the TOTP code if asked)",
    "auth.totp_required": "this account needs its TOTP code: log in again and give it",
    "auth.invalid_totp": "wait for the next code of your authenticator and log in again",
    "auth.invalid_token": "log in again: cordon login USERNAME",
}
_API_HINTS = {
    401: "log in again: cordon login USERNAME",
    403: "your role in this group does not allow it; ask a coordinator",
    404: "check the id (cordon groups lists your groups)",
    409: "someone changed it first; look again and retry",
    413: "the request is too large",
    429: "too many requests; wait a moment and retry",
}


def _transport(exc: httpx.TransportError) -> Problem:
    url = ""
    try:
        url = str(exc.request.url.copy_with(path="/", query=None)).rstrip("/")
    except RuntimeError:  # an error raised before a request was attached
        pass
    where = f" at {url}" if url else ""
    if isinstance(exc, httpx.TimeoutException):
        return Problem(f"the server{where} did not answer in time", "retry later")
    reason = str(exc).split("] ")[-1] or type(exc).__name__
    return Problem(
        f"cannot reach the server{where}: {reason}",
        "check --server URL and that the server is running (cordon-server serve)",
    )


def _raised_by(exc: BaseException, module: str, name: str) -> bool:
    """Whether `exc` is the exception `name` of `module`, without importing it: a module never
    imported raised nothing, and importing YAML or JSON Schema here would slow every command."""
    kind = getattr(sys.modules.get(module), name, None)
    return isinstance(kind, type) and isinstance(exc, kind)


def describe(exc: BaseException) -> Problem:
    """One line and a hint for any failure a command can meet."""
    if isinstance(exc, ApiError):
        hint = _CODE_HINTS.get(exc.code) or _API_HINTS.get(exc.status)
        if exc.status >= 500:
            hint = "the server failed; retry, or tell its operator"
        return Problem(f"{exc.detail} [{exc.code}]", hint)
    if isinstance(exc, WrongPassphraseError):
        return Problem(
            "the keystore passphrase is wrong",
            "type the passphrase chosen at login, or set CORDON_PASSPHRASE; "
            "--home selects another device",
        )
    if isinstance(exc, KeystoreError):
        return Problem(exc.reason, "check --home and the permissions of its files")
    if _raised_by(exc, "cordon_client.templates.registry", "InvalidContentError"):
        fields = "; ".join(str(e) for e in cast("InvalidContentError", exc).errors)
        return Problem(f"the content does not fit its template: {fields}", _template_hint())
    if isinstance(exc, RealtimeError):
        return Problem(str(exc), "log in again if the device was revoked")
    if isinstance(exc, CryptoError):
        return Problem(exc.reason)
    if isinstance(exc, CordonClientError):
        return Problem(str(exc))
    if isinstance(exc, httpx.TransportError):
        return _transport(exc)
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return Problem(f"invalid server URL: {exc}", "give --server as https://host[:port]")
    if isinstance(exc, json.JSONDecodeError):
        return Problem(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            "a .yaml/.yml file is read as YAML, anything else as JSON",
        )
    if _raised_by(exc, "yaml", "YAMLError"):
        return Problem(f"not valid YAML: {' '.join(str(exc).split())}")
    if isinstance(exc, OSError):
        name = f"{exc.filename}: " if exc.filename else ""
        return Problem(f"{name}{exc.strerror or exc}")
    if isinstance(exc, KeyboardInterrupt):
        return Problem("interrupted")
    return Problem(f"unexpected {type(exc).__name__}: {exc}", DEBUG_HINT)


def _template_hint() -> str:
    return "cordon cases template / cordon prenotifications template print a valid example"


# Set by the root callback; the command line is read too, for failures before the callback runs.
_DEBUG: ContextVar[bool] = ContextVar("cordon_cli_debug", default=False)


def set_debug(enabled: bool) -> None:
    """Record the global `--debug` option of this invocation."""
    _DEBUG.set(enabled)


def debug_requested() -> bool:
    """Whether `--debug` was given: then failures keep their traceback."""
    return _DEBUG.get() or "--debug" in sys.argv[1:]


def report(failure: BaseException | Problem) -> None:
    """Print the one line for `failure` on stderr."""
    problem = failure if isinstance(failure, Problem) else describe(failure)
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[red]{escape(problem.line())}[/red]"
    )


def exit_for(exc: BaseException) -> NoReturn:
    """Report `exc` and exit 1, or re-raise it (traceback) under `--debug`."""
    if debug_requested():
        raise exc
    report(exc)
    raise typer.Exit(1) from None


def _usage(exc: Exception) -> Problem:
    """A mistyped command line (unknown command or option, missing or bad argument)."""
    path = getattr(getattr(exc, "ctx", None), "command_path", None) or "cordon"
    return Problem(exc.format_message(), f"{path} --help lists what it takes")  # type: ignore[attr-defined]


def guarded(app: typer.Typer) -> NoReturn:
    """Run `app` (the whole command line or its root alone, `cli.entry`): whatever escapes a
    command, a usage error included, becomes one line and exit 1, or its traceback (a failure
    inside a command) under `--debug`. Typer's own handling is off (``standalone_mode``), so
    its boxed usage errors and exit status 2 never reach the user."""
    try:
        code = app(prog_name="cordon", standalone_mode=False)
    except getattr(_click, "NoArgsIsHelpError", ()) as exc:  # the help is printed already
        raise SystemExit(exc.exit_code) from None
    except _click.ClickException as exc:
        report(_usage(exc))
        raise SystemExit(1) from None
    except typer.Abort:  # end of input at a prompt
        report(Problem("aborted"))
        raise SystemExit(1) from None
    except Exception as exc:  # noqa: BLE001 - the last line of defence; --debug re-raises
        try:
            exit_for(exc)
        except typer.Exit as done:
            raise SystemExit(done.exit_code) from None
    raise SystemExit(code if isinstance(code, int) else 0)
