"""`cordon`: the command line over the `Cordon` SDK (typer + rich); every verb is one SDK call.

Global options: `--home` (``$CORDON_HOME``, default ``~/.cordon``) and `--server`
(``$CORDON_SERVER``); the keystore passphrase comes from ``$CORDON_PASSPHRASE`` or a hidden
prompt. Exit status 0 on success, 1 with a one-line reason when the client or server refused.

`app` is the whole command line: the root of `cli.root` with every command group added (the
executable starts at `cli.entry.run`, which needs this module only for the groups).
"""

from cordon_client.cli import groups, root
from cordon_client.cli.cases import cases_app
from cordon_client.cli.library import library_app
from cordon_client.cli.prenotifications import prenotifications_app

app = root.build()
app.add_typer(groups.group_app, name="group")
app.add_typer(groups.device_app, name="device")
app.add_typer(library_app, name="library")
app.add_typer(cases_app, name="cases")
app.add_typer(prenotifications_app, name="prenotifications")


if __name__ == "__main__":
    app()
