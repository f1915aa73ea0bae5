"""`cordon`: the command line over the `Cordon` SDK (typer + rich); every verb is one SDK call.

Global options: `--home` (``$CORDON_HOME``, default ``~/.cordon``), `--server`
(``$CORDON_SERVER``), `--debug` and, for a service account, `--credential-file`; the
keystore passphrase comes from ``$CORDON_PASSPHRASE`` or a hidden prompt (or that
credential). Exit status 0 on success, 1 with one line on stderr (what went wrong and a
hint) for any failure; `--debug` shows the traceback instead.

`app` is the whole command line: the root of `cli.root` (the global options and the
top-level verbs) with every command group added. The installed script is `cli.entry.run`,
which needs this module only for a command group, `--help` or a typo; `python -m
cordon_client.cli.main` runs the whole command line the same way.
"""

from cordon_client.cli import errors, groups, root
from cordon_client.cli.cases import cases_app
from cordon_client.cli.library import library_app
from cordon_client.cli.prenotifications import prenotifications_app
from cordon_client.cli.report import report_command
from cordon_client.cli.service_accounts import service_account_app

app = root.build()
app.add_typer(groups.group_app, name="group")
app.add_typer(groups.device_app, name="device")
app.add_typer(library_app, name="library")
app.add_typer(cases_app, name="cases")
app.add_typer(prenotifications_app, name="prenotifications")
app.add_typer(service_account_app, name="service-account")
app.command("report")(report_command)

if __name__ == "__main__":
    errors.guarded(app)
