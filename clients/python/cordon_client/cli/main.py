"""`cordon`: the command line over the `Cordon` SDK (typer + rich); every verb is one SDK call.

Global options: `--home` (``$CORDON_HOME``, default ``~/.cordon``) and `--server`
(``$CORDON_SERVER``); the keystore passphrase comes from ``$CORDON_PASSPHRASE`` or a hidden
prompt. Exit status 0 on success, 1 with a one-line reason when the client or server refused.
"""

from pathlib import Path
from typing import Annotated

import typer

from cordon_client.cli import account, common, groups, messages
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
) -> None:
    """Set where the device lives and which server it talks to."""
    common.set_options(common.Options(home=home, server=server))


if __name__ == "__main__":
    app()
