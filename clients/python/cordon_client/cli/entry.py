"""The `cordon` executable's entry point.

For a top-level verb (`groups`, `send`, `receive`, `login`, …) it runs the root command of
`cli.root` alone, so typer neither imports nor introspects the commands of the groups that
are not being run (issue 12, "Speed"); anything else (a command group, `--help`, a typo)
gets the whole command line of `cli.main`. Both share the root callback, so the global
options (`--home`, `--server`, `--debug`, `--credential-file`) mean the same either way, and
whatever escapes a command is one line on stderr and exit 1 (`cli.errors`).
"""

from __future__ import annotations

import sys

import typer

from cordon_client.cli import errors, root

VALUED_OPTIONS = ("--home", "--server", "--credential-file")  # global options with a value
FLAG_OPTIONS = ("--debug",)  # global options without one


def _verbs(app: typer.Typer) -> set[str]:
    """The names the root's own commands are typed as."""
    return {
        info.name or (info.callback.__name__.lower().replace("_", "-") if info.callback else "")
        for info in app.registered_commands
    }


def _command_typed(argv: list[str]) -> str | None:
    """The first word after the global options, or None when another option comes first."""
    args = iter(argv)
    for arg in args:
        if arg in VALUED_OPTIONS:
            next(args, None)
        elif arg in FLAG_OPTIONS or arg.startswith(tuple(f"{o}=" for o in VALUED_OPTIONS)):
            continue
        else:
            return None if arg.startswith("-") else arg
    return None


def run() -> None:
    """The `cordon` executable."""
    lean = root.build()
    if _command_typed(sys.argv[1:]) in _verbs(lean):
        errors.guarded(lean)
        return
    from cordon_client.cli.main import app

    errors.guarded(app)
