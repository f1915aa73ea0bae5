"""`cordon enrol|login|lock|logout|password|whoami|groups`: this device's account."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cordon_client._client import Cordon
from cordon_client.account.unlock import UnlockFile, unlock_path
from cordon_client.cli import common as common
from cordon_client.exceptions import ApiError

app = typer.Typer()


@app.command()
def enrol(code: Annotated[str, typer.Argument(help="One-time enrolment code.")]) -> None:
    """Redeem an enrolment code: set your password (and load the TOTP seed when required)."""
    out = common.console()

    async def work(cordon: Cordon) -> None:
        info = await cordon.inspect_enrolment(code)
        out.print(f"enrolling {escape(info['username'])} ({escape(info['display_name'])})")
        totp = None
        if info.get("totp_required"):
            out.print(f"TOTP seed: {info['totp_secret']}\nTOTP URI:  {info['otpauth_uri']}")
            totp = typer.prompt("Code from your authenticator app")
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
        await cordon.enrol(code, password, totp)
        out.print(f"enrolled; now run: cordon login {escape(info['username'])}")

    common.run(work)


@app.command()
def login(
    username: Annotated[
        str | None, typer.Argument(help="Your username (not with --credential-file).")
    ] = None,
    totp: Annotated[str | None, typer.Option(help="TOTP code (asked for when needed).")] = None,
    device_name: Annotated[str | None, typer.Option(help="Name of this device.")] = None,
    credential_file: Annotated[
        Path | None,
        typer.Option(help="Log in as the service account whose credential this file holds."),
    ] = None,
) -> None:
    """Log in; the first login in this state directory creates and registers this device.
    A service account logs in with its credential file instead (no prompt)."""
    if credential_file is not None:
        common.set_options(replace(common.options(), credential_file=credential_file))
    if common.options().credential_file is not None:
        if username is not None:
            common.fail("give a username or a credential file, not both")
        _login_with_credential(device_name or "cordon-service")
        return
    if username is None:
        common.fail("give your username (or --credential-file for a service account)")
    password = typer.prompt("Password", hide_input=True)
    name = device_name or "cordon-cli"

    async def work(cordon: Cordon) -> None:
        try:
            profile = await cordon.login(username, password, totp, device_name=name)
        except ApiError as exc:
            if exc.code != "auth.totp_required":
                raise
            code = typer.prompt("TOTP code")
            profile = await cordon.login(username, password, code, device_name=name)
        common.console().print(
            f"logged in as {escape(profile.username)} (user {profile.user_id}, "
            f"device {profile.device_id})"
        )

    common.run(work, new_keystore=True)


def _login_with_credential(device_name: str) -> None:
    """The service account's login: keys made here on first use, keystore sealed under the
    credential."""

    async def work(cordon: Cordon) -> None:
        assert cordon.credential is not None
        profile = await cordon.login_with_credential(cordon.credential, device_name=device_name)
        common.console().print(
            f"logged in as service account {escape(profile.username)} (user "
            f"{profile.user_id}, device {profile.device_id})"
        )

    common.run(work)


@app.command()
def lock() -> None:
    """Forget the unlocked keystore key now: the next command asks for the passphrase."""
    UnlockFile(unlock_path(common.home()), 0).forget()
    common.console().print("locked: the next command asks for the keystore passphrase")


@app.command()
def logout() -> None:
    """Revoke this device's token on the server and forget it here."""
    common.run(lambda cordon: cordon.logout())
    common.console().print("logged out")


@app.command()
def password(
    totp: Annotated[str | None, typer.Option(help="TOTP code (asked for when needed).")] = None,
) -> None:
    """Change your password; every other session of your account ends."""
    current = typer.prompt("Current password", hide_input=True)
    new = typer.prompt("New password", hide_input=True, confirmation_prompt=True)

    async def work(cordon: Cordon) -> None:
        try:
            ended = await cordon.change_password(current, new, totp)
        except ApiError as exc:
            if exc.code != "auth.totp_required":
                raise
            ended = await cordon.change_password(current, new, typer.prompt("TOTP code"))
        common.console().print(f"password changed; {ended} other session(s) ended")

    common.run(work)


@app.command()
def whoami() -> None:
    """Show the user, device and server of this state directory."""

    async def work(cordon: Cordon) -> None:
        profile, _ = cordon.state.require()
        common.console().print(
            f"{escape(profile.username)}\nuser   {profile.user_id}\n"
            f"device {profile.device_id}\nserver {escape(cordon.server)}"
        )

    common.run(work)
