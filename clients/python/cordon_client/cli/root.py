"""The root of the `cordon` command line: the global options and the top-level verbs
(account, groups, messages), without the command groups that `cli.main` adds to it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cordon_client.cli import account, common, errors, groups, messages

HELP = "Cordon: end-to-end encrypted messaging for customs administrations."


def _global_options(
    home: Annotated[
        Path | None,
        typer.Option(envvar="CORDON_HOME", help="State directory (default ~/.cordon)."),
    ] = None,
    server: Annotated[
        str | None, typer.Option(envvar="CORDON_SERVER", help="Server base URL.")
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of a failure.")
    ] = False,
    credential_file: Annotated[
        Path | None,
        typer.Option(
            help="Act as the service account whose credential this file holds: no prompt, "
            "its token renewed as needed (docs/operations.md#service-accounts)."
        ),
    ] = None,
) -> None:
    """Set where the device lives and which server it talks to."""
    errors.set_debug(debug)
    common.set_options(common.Options(home=home, server=server, credential_file=credential_file))


def build() -> typer.Typer:
    """A root command with the top-level verbs and no command groups."""
    app = typer.Typer(help=HELP, no_args_is_help=True, pretty_exceptions_enable=False)
    app.callback()(_global_options)
    for module in (account, groups, messages):
        app.registered_commands += module.app.registered_commands
    return app
