"""The `cordon` executable's entry point.

For a top-level verb (`groups`, `send`, `receive`, `login`, …) it runs the root command of
`cli.root` alone, so typer neither imports nor introspects the 42 commands of the groups
that are not being run (issue 12, "Speed"); anything else (a command group, `--help`, a typo)
gets the whole command line of `cli.main`.
"""

from __future__ import annotations

import sys

import typer

from cordon_client.cli import root

ROOT_OPTIONS = ("--home", "--server")  # the global options, each taking a value


def _verbs(app: typer.Typer) -> set[str]:
    """The names the root's own commands are typed as."""
    return {
        info.name or (info.callback.__name__.lower().replace("_", "-") if info.callback else "")
        for info in app.registered_commands
    }


def _command_typed(argv: list[str]) -> str | None:
    """The first word after the global options, or None when an option comes first."""
    args = iter(argv)
    for arg in args:
        if arg in ROOT_OPTIONS:
            next(args, None)
        elif not arg.startswith(ROOT_OPTIONS):
            return None if arg.startswith("-") else arg
    return None


def run() -> None:
    """The `cordon` executable."""
    lean = root.build()
    if _command_typed(sys.argv[1:]) in _verbs(lean):
        lean()
        return
    from cordon_client.cli.main import app

    app()
