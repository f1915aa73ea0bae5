"""`cordon`: the command line over the `Cordon` SDK (typer + rich); every verb is one SDK call.

Global options: `--home` (``$CORDON_HOME``, default ``~/.cordon``), `--server`
(``$CORDON_SERVER``) and `--debug`; the keystore passphrase comes from ``$CORDON_PASSPHRASE`` or
a hidden prompt. Exit status 0 on success, 1 with one line on stderr (what went wrong and a
hint) for any failure; `--debug` shows the traceback instead. `entry` is the installed script.
"""

from pathlib import Path
from typing import Annotated

import typer

from cordon_client.cli import account, common, errors, groups, messages
from cordon_client.cli.cases import cases_app
from cordon_client.cli.library import library_app
from cordon_client.cli.prenotifications import prenotifications_app

app = typer.Typer(
    help="Cordon: end-to-end encrypted messaging for customs administrations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.registered_commands += account.app.registered_commands
app.registered_commands += groups.app.registered_commands
app.add_typer(groups.group_app, name="group")
app.add_typer(groups.device_app, name="device")
app.registered_commands += messages.app.registered_commands
app.add_typer(library_app, name="library")
app.add_typer(cases_app, name="cases")
app.add_typer(prenotifications_app, name="prenotifications")


@app.callback()
def main(
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
) -> None:
    """Set where the device lives and which server it talks to."""
    errors.set_debug(debug)
    common.set_options(common.Options(home=home, server=server))


def entry() -> None:
    """The `cordon` script: run the app; whatever escapes a command becomes one line, exit 1."""
    try:
        app()
    except Exception as exc:  # noqa: BLE001 - the last line of defence; --debug re-raises
        try:
            errors.exit_for(exc)
        except typer.Exit as done:
            raise SystemExit(done.exit_code) from None


if __name__ == "__main__":
    entry()
