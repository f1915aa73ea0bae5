"""`cordon`: the command line over the `Cordon` SDK (typer + rich); every verb is one SDK call.

Global options: `--home` (``$CORDON_HOME``, default ``~/.cordon``) and `--server`
(``$CORDON_SERVER``); the keystore passphrase comes from ``$CORDON_PASSPHRASE`` or a hidden
prompt. Exit status 0 on success, 1 with a one-line reason when the client or server refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cordon_client import _cli_common as common
from cordon_client._client import Cordon, Incoming
from cordon_client._domain_cli import cases_app, prenotifications_app
from cordon_client._library_cli import library_app
from cordon_client.exceptions import ApiError, ExcludedDeviceError

app = typer.Typer(
    help="Cordon: end-to-end encrypted messaging for customs administrations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
group_app = typer.Typer(help="Groups and their signed membership log.", no_args_is_help=True)
device_app = typer.Typer(help="Certify or revoke devices in a group's log.", no_args_is_help=True)
app.add_typer(group_app, name="group")
app.add_typer(device_app, name="device")
app.add_typer(library_app, name="library")
app.add_typer(cases_app, name="cases")
app.add_typer(prenotifications_app, name="prenotifications")

GroupArg = Annotated[uuid.UUID, typer.Argument(help="Group id.", show_default=False)]
UserArg = Annotated[uuid.UUID, typer.Argument(help="User id.", show_default=False)]
DeviceArg = Annotated[uuid.UUID, typer.Argument(help="Device id.", show_default=False)]
ROLES = ("coordinator", "co_coordinator", "member", "observer")


@app.callback()
def main(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(envvar="CORDON_HOME", help="State directory (default ~/.cordon)."),
    ] = None,
    server: Annotated[
        str | None, typer.Option(envvar="CORDON_SERVER", help="Server base URL.")
    ] = None,
) -> None:
    """Set where the device lives and which server it talks to."""
    ctx.obj = common.Options(home=home, server=server)


# -- account -----------------------------------------------------------------------------------


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
    username: str,
    totp: Annotated[str | None, typer.Option(help="TOTP code (asked for when needed).")] = None,
    device_name: Annotated[str, typer.Option(help="Name of this device.")] = "cordon-cli",
) -> None:
    """Log in; the first login in this state directory creates and registers this device."""
    password = typer.prompt("Password", hide_input=True)

    async def work(cordon: Cordon) -> None:
        try:
            profile = await cordon.login(username, password, totp, device_name=device_name)
        except ApiError as exc:
            if exc.code != "auth.totp_required":
                raise
            code = typer.prompt("TOTP code")
            profile = await cordon.login(username, password, code, device_name=device_name)
        common.console().print(
            f"logged in as {escape(profile.username)} (user {profile.user_id}, "
            f"device {profile.device_id})"
        )

    common.run(work, new_keystore=True)


@app.command()
def logout() -> None:
    """Revoke this device's token on the server and forget it here."""
    common.run(lambda cordon: cordon.logout())
    common.console().print("logged out")


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


# -- groups ------------------------------------------------------------------------------------


@app.command()
def groups() -> None:
    """List the groups you belong to and your role in each."""
    rows = common.run(lambda cordon: cordon.groups())
    table = Table("group", "name", "status", "role")
    for g in rows:
        table.add_row(
            str(g.get("id")),
            escape(str(g.get("name", ""))),
            str(g.get("status", "")),
            str(g.get("my_role", "")),
        )
    common.console().print(table)


@group_app.command("create")
def group_create(
    name: str,
    coordinator: Annotated[uuid.UUID, typer.Option(help="User id of the coordinator.")],
    description: Annotated[str, typer.Option()] = "",
) -> None:
    """Open a new group (platform administrators)."""
    gid = common.run(lambda c: c.create_group(name, description, coordinator_id=coordinator))
    common.console().print(f"created group {gid}")


@group_app.command("status")
def group_status(
    group: GroupArg,
    status: Annotated[str, typer.Argument(help="planned, active, closed or archived.")],
) -> None:
    """Move the group along its lifecycle (coordinators)."""
    common.run(lambda c: c.set_group_status(group, status))
    common.console().print(f"group {group} is now {escape(status)}")


def _print_fingerprint(code: str, qr: str) -> None:
    common.console().print(f"fingerprint: {code}\nQR payload:  {escape(qr)}")


@group_app.command("open-log")
def group_open_log(group: GroupArg) -> None:
    """As coordinator: create the group's trust root; read the fingerprint out to members."""

    async def work(cordon: Cordon) -> tuple[str, str]:
        await cordon.open_group_log(group)
        return cordon.fingerprint(group)

    _print_fingerprint(*common.run(work))


@group_app.command("join")
def group_join(
    group: GroupArg,
    fingerprint: Annotated[
        str, typer.Option(help="The root fingerprint the coordinator gave you out of band.")
    ],
) -> None:
    """Pin the group's root after checking its fingerprint, and certify this device."""
    code = common.run(lambda c: c.join_group(group, expected_fingerprint=fingerprint))
    common.console().print(f"joined group {group}; fingerprint verified: {code}")


@group_app.command("fingerprint")
def group_fingerprint(group: GroupArg) -> None:
    """Show the pinned root's fingerprint and QR payload, to compare out of band."""

    async def work(cordon: Cordon) -> tuple[str, str]:
        return cordon.fingerprint(group)

    _print_fingerprint(*common.run(work))


@group_app.command("add")
def group_add(
    group: GroupArg,
    user: UserArg,
    role: Annotated[str, typer.Option(help=", ".join(ROLES))] = "member",
) -> None:
    """As coordinator: admit a user and certify their member key in the signed log."""
    common.run(lambda c: c.add_member(group, user, role))
    common.console().print(f"added {user} as {escape(role)}")


@group_app.command("remove")
def group_remove(group: GroupArg, user: UserArg) -> None:
    """As coordinator: remove a member from the signed log and the server."""
    common.run(lambda c: c.remove_member(group, user))
    common.console().print(f"removed {user}")


@group_app.command("grant-library")
def group_grant_library(group: GroupArg, user: UserArg) -> None:
    """As coordinator: give a member the keys of the documents published before they joined."""
    seq = common.run(lambda c: c.grant_library(group, user))
    common.console().print(f"library keys sent to {user} (#{seq})")


@device_app.command("certify")
def device_certify(group: GroupArg, device: DeviceArg) -> None:
    """From the device holding your member key, certify another of your devices."""
    common.run(lambda c: c.certify_device(group, device))
    common.console().print(f"certified device {device}")


@device_app.command("revoke")
def device_revoke(group: GroupArg, device: DeviceArg) -> None:
    """Revoke one of your devices in the group's log and on the server."""
    common.run(lambda c: c.revoke_device(group, device))
    common.console().print(f"revoked device {device}")


# -- messages ----------------------------------------------------------------------------------


@app.command()
def send(
    group: GroupArg,
    text: str,
    to: Annotated[
        list[uuid.UUID] | None, typer.Option("--to", help="Only these users (repeatable).")
    ] = None,
    chat: Annotated[bool, typer.Option("--chat", help="A chat message, not an alert.")] = False,
    urgent: Annotated[bool, typer.Option("--urgent")] = False,
    reply_to: Annotated[int | None, typer.Option(help="Seq of the item answered.")] = None,
) -> None:
    """Encrypt and send an alert (or a chat message) to the group or to some members."""
    kind = "chat" if chat else "alert"

    async def work(c: Cordon) -> tuple[int, list[ExcludedDeviceError]]:
        seq = await c.send(
            group, text, kind=kind, to_users=to or None, parent_seq=reply_to, urgent=urgent
        )
        return seq, c.excluded

    seq, excluded = common.run(work)
    common.console().print(f"sent #{seq}")
    for left_out in excluded:
        common.console().print(f"[yellow]warning: {escape(left_out.reason)}[/yellow]")


def _status(item: Incoming) -> str:
    if item.verified:
        return "[green]verified[/green]"
    if item.error is not None:
        return f"[red]NOT VERIFIED: {escape(item.error)}[/red]"
    return "server event"


def _body(item: Incoming) -> str:
    if item.event is not None:
        return escape(json.dumps(item.event, separators=(",", ":")))
    return escape(item.text or "")


def _when(item: Incoming) -> str:
    return item.created_at.astimezone().strftime("%H:%M:%S") if item.created_at else "-"


@app.command()
def receive() -> None:
    """Fetch, verify and decrypt everything new once, and show it as a table."""
    items = common.run(lambda c: c.receive())
    table = Table("time", "group", "#", "sender", "kind", "status", "text")
    for i in items:
        table.add_row(
            _when(i),
            str(i.group_id),
            str(i.seq),
            str(i.sender_user_id or "server"),
            i.kind + (" [bold red]URGENT[/bold red]" if i.urgent else ""),
            _status(i),
            _body(i),
        )
    common.console().print(table)


def _line(item: Incoming) -> str:
    urgent = "[bold red]URGENT[/bold red] " if item.urgent else ""
    head = (
        f"[dim]{_when(item)}[/dim] {item.group_id} #{item.seq} "
        f"{item.sender_user_id or 'server'} {item.kind} {urgent}"
    )
    if item.error is not None:
        return f"{head}[red]NOT VERIFIED: {escape(item.error)}[/red]"
    mark = "[green]verified[/green] " if item.verified else ""
    return f"{head}{mark}{_body(item)}"


@app.command()
def listen(
    max_items: Annotated[
        int | None, typer.Option(help="Stop after this many messages (events don't count).")
    ] = None,
    seconds: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
) -> None:
    """Show items live as they arrive (verified, decrypted, once each) until stopped."""
    out = common.console()

    async def work(cordon: Cordon) -> None:
        count = 0
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds), cordon.listen() as items:
                async for item in items:
                    out.print(_line(item))
                    count += item.event is None
                    if max_items is not None and count >= max_items:
                        break

    try:
        common.run(work)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


if __name__ == "__main__":
    app()
