"""`cordon group …` and `cordon device …`: groups, their signed log, devices."""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cordon_client._client import Cordon
from cordon_client.cli import common as common
from cordon_client.cli import ids, output
from cordon_client.cli.common import GroupArg
from cordon_client.exceptions import CordonClientError
from cordon_client.groups import shortid

app = typer.Typer()  # top-level: `cordon groups`
group_app = typer.Typer(help="Groups and their signed membership log.", no_args_is_help=True)
device_app = typer.Typer(help="Certify or revoke devices in a group's log.", no_args_is_help=True)

UserArg = Annotated[
    uuid.UUID,
    typer.Argument(
        help="A member: username, a unique user id prefix or the full id.",
        show_default=False,
        metavar="USER",
        parser=ids.parser("user"),
    ),
]
DeviceArg = Annotated[
    uuid.UUID,
    typer.Argument(
        help="Device: a unique id prefix (as `cordon group members` shows) or the full id.",
        show_default=False,
        metavar="DEVICE",
        parser=ids.parser("device"),
    ),
]
ROLES = ("coordinator", "co_coordinator", "member", "observer")


@app.command()
def groups(as_json: output.JsonFlag = False) -> None:
    """List the groups you belong to and your role in each (type a group by the id shown,
    or by its name)."""
    rows = common.run(lambda cordon: cordon.groups())
    if as_json:
        output.print_json(
            [
                {
                    "id": g.get("id"),
                    "name": g.get("name"),
                    "status": g.get("status"),
                    "role": g.get("my_role"),
                }
                for g in rows
            ]
        )
        return
    every = [uuid.UUID(str(g["id"])) for g in rows]
    table = Table("id", "name", "status", "your role")
    for g in rows:
        table.add_row(
            shortid.short(uuid.UUID(str(g["id"])), every),
            escape(str(g.get("name", ""))),
            str(g.get("status", "")),
            str(g.get("my_role", "")).replace("_", "-"),
        )
    common.console().print(table)


@group_app.command("members")
def group_members(group: GroupArg, as_json: output.JsonFlag = False) -> None:
    """Who is in the group: names and organisations, role, certified devices; service accounts
    are marked. Membership comes from the verified signed log; users the server lists but the
    log does not certify yet are marked "not certified"."""
    members = common.run(lambda c: c.members(group))
    if as_json:
        output.print_json(
            [
                {
                    "user_id": m.user_id,
                    "username": m.username,
                    "display_name": m.display_name,
                    "organisation": m.organisation,
                    "country_code": m.country_code,
                    "role": m.role,
                    "is_service": m.is_service,
                    "certified": m.certified,
                    "devices": list(m.devices),
                }
                for m in members
            ]
        )
        return
    out = common.console()
    every_device = [d for m in members for d in m.devices]
    for m in members:
        name = m.display_name or str(m.user_id)
        role = m.role.replace("_", "-")
        kind = " [cyan]service account[/cyan]" if m.is_service else ""
        state = "" if m.certified else " [yellow]not certified[/yellow]"
        out.print(f"[bold]{escape(name)}[/bold]  {escape(m.username)}  {role}{kind}{state}")
        where = ", ".join(p for p in (m.organisation, m.country_code) if p) or "-"
        devices = " ".join(shortid.short(d, every_device) for d in m.devices) or "none"
        out.print(f"  {escape(where)} · devices: {devices}")


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
    group: Annotated[
        uuid.UUID | None,
        typer.Argument(
            help="Group: name, id prefix or full id (not needed with --invitation).",
            metavar="GROUP",
            parser=ids.parse_group,
        ),
    ] = None,
    invitation: Annotated[
        str | None, typer.Option(help="The invitation your coordinator gave you out of band.")
    ] = None,
    fingerprint: Annotated[
        str | None,
        typer.Option(help="Fallback: the root fingerprint the coordinator read out to you."),
    ] = None,
) -> None:
    """Answer an invitation (pins the root it names and sends your member key), or, once
    admitted, certify this device in the group's log."""
    out = common.console()
    if invitation is not None:
        gid = common.run(lambda c: c.request_join(invitation))
        out.print(
            f"root of group {gid} verified against your invitation; join request sent.\n"
            f"Once your coordinator admits you, run: cordon group join {gid}"
        )
        return
    if group is None:
        common.fail("give the group id, or --invitation")
    gid = group
    code = common.run(lambda c: c.join_group(gid, expected_fingerprint=fingerprint))
    how = "fingerprint verified" if fingerprint else "root pinned by your invitation"
    out.print(f"joined group {gid}; {how}: {code}")


@group_app.command("invite")
def group_invite(
    group: GroupArg,
    for_user: Annotated[
        str | None, typer.Option("--for", help="Username the invitation is meant for (a note).")
    ] = None,
    count: Annotated[int, typer.Option(min=1, max=500, help="How many invitations.")] = 1,
    ttl_hours: Annotated[int, typer.Option(min=1, max=720)] = 14 * 24,
) -> None:
    """As coordinator: issue one-time invitations (one per member), to hand over outside
    Cordon; each binds the member's key and shows them the group's root."""

    async def work(cordon: Cordon) -> list[str]:
        return [
            await cordon.invite(group, for_user=for_user, ttl_hours=ttl_hours) for _ in range(count)
        ]

    out = common.console()
    for text in common.run(work):
        out.print(f"invitation: {text}\nQR payload: {text}")
    who = escape(for_user) if for_user else "USERNAME"
    out.print(
        f"Hand it over outside Cordon. Once answered: cordon group admit {group} "
        f"(or cordon group add {group} {who})"
    )


@group_app.command("member-fingerprint")
def group_member_fingerprint() -> None:
    """Your member key's safety number and QR payload (the fallback to an invitation)."""

    async def work(cordon: Cordon) -> tuple[str, str]:
        return cordon.member_fingerprint()

    number, qr = common.run(work)
    common.console().print(f"safety number: {number}\nQR payload:    {escape(qr)}")


@group_app.command("fingerprint")
def group_fingerprint(group: GroupArg) -> None:
    """Show the pinned root's fingerprint and QR payload, to compare out of band."""

    async def work(cordon: Cordon) -> tuple[str, str]:
        return cordon.fingerprint(group)

    _print_fingerprint(*common.run(work))


@group_app.command("add")
def group_add(
    group: GroupArg,
    user: Annotated[
        str,
        typer.Argument(
            help="Username, a unique user id prefix or the full id.",
            show_default=False,
            metavar="USER",
        ),
    ],
    role: Annotated[str, typer.Option(help=", ".join(ROLES))] = "member",
    fingerprint: Annotated[
        str | None,
        typer.Option(
            help="Fallback without invitation: the member's safety number or QR payload, "
            "compared with them out of band."
        ),
    ] = None,
) -> None:
    """As coordinator: certify a member key in the signed log, only if bound out of band (by
    the member's answer to your invitation, or by --fingerprint)."""

    async def work(cordon: Cordon) -> str:
        who: uuid.UUID | str = user
        with contextlib.suppress(ValueError):
            who = uuid.UUID(user)
        if fingerprint is not None and not isinstance(who, uuid.UUID):
            who = await cordon.find_user(group, user)
        return await cordon.add_member(group, who, role, member_fingerprint=fingerprint)

    binding = common.run(work)
    how = "invitation" if binding == "invitation" else "fingerprint compared out of band"
    common.console().print(f"added {escape(user)} as {escape(role)} (key bound by {how})")


@group_app.command("admit")
def group_admit(group: GroupArg) -> None:
    """As coordinator: certify every pending join request whose MAC verifies under one of
    your invitations; the others are listed as refused."""
    rows = common.run(lambda c: c.admit_all(group))
    table = Table("user", "outcome")
    for name, outcome in rows:
        table.add_row(escape(name), escape(outcome))
    common.console().print(table)


@group_app.command("head")
def group_head(group: GroupArg) -> None:
    """The log head this device verified last (compare it with your coordinator's), and
    whether the group is frozen by a detected fork."""

    async def work(cordon: Cordon) -> tuple[tuple[int, str] | None, dict[str, object] | None]:
        return cordon.log_head(group), cordon.fork_report(group)

    head, fork = common.run(work)
    out = common.console()
    out.print(f"head seq {head[0]}, epoch {head[1]}" if head else "no head verified yet")
    if fork is not None:
        out.print(f"[red]FROZEN: {escape(str(fork['reason']))}[/red]")


@group_app.command("fork-proof")
def group_fork_proof(group: GroupArg) -> None:
    """Print the recorded fork proof as JSON, for anyone to verify against the group's root."""

    async def work(cordon: Cordon) -> dict[str, object] | None:
        return cordon.fork_report(group)

    fork = common.run(work)
    if fork is None or fork.get("proof") is None:
        common.fail("no fork proof recorded for this group")
    print(json.dumps(fork["proof"], indent=1))  # noqa: T201  (machine-readable output)


@group_app.command("resolve-fork")
def group_resolve_fork(
    group: GroupArg,
    epoch: Annotated[str, typer.Argument(help="Epoch id your coordinator confirmed (hex).")],
) -> None:
    """Unfreeze after comparing with your coordinator: the served log must hold that head."""
    seq = common.run(lambda c: c.resolve_fork(group, epoch))
    common.console().print(f"group {group} unfrozen; verified head is now seq {seq}")


@group_app.command("remove")
def group_remove(group: GroupArg, user: UserArg) -> None:
    """As coordinator: remove a member from the signed log and the server."""
    common.run(lambda c: c.remove_member(group, user))
    common.console().print(f"removed {escape(ids.shown(user))} ({user})")


@group_app.command("grant-library")
def group_grant_library(group: GroupArg, user: UserArg) -> None:
    """As coordinator: give a member the keys of the documents published before they joined."""
    seq = common.run(lambda c: c.grant_library(group, user))
    common.console().print(f"library keys sent to {escape(ids.shown(user))} (#{seq})")


@group_app.command("grant-history")
def group_grant_history(
    group: GroupArg,
    user: UserArg,
    scope: Annotated[str, typer.Option(help="cases or prenotifications")] = "cases",
) -> None:
    """As coordinator: let a member who joined later read the operation's earlier cases or
    pre-notifications (logged in the signed log; sends the keys of the items you hold)."""
    count = common.run(lambda c: c.grant_history(group, user, scope))
    common.console().print(
        f"{scope} history granted to {escape(ids.shown(user))}: {count} earlier items"
    )


@device_app.command("link-code")
def device_link_code() -> None:
    """On a new device: show the code (and QR payload) your first device enters to link it."""

    async def work(cordon: Cordon) -> str:
        return cordon.link_code()

    code = common.run(work)
    common.console().print(f"link code:  {code}\nQR payload: {code}")


@device_app.command("link")
def device_link(
    group: GroupArg,
    code: Annotated[str, typer.Argument(help="The link code shown by the new device.")],
) -> None:
    """From the device holding your member key: certify the new device whose code you
    entered, and only the key that code commits to; then hand it your history in the group
    (the cases and pre-notifications this device holds, and the keys in flight)."""
    device, sent = common.run(lambda c: c.link_device(group, code))
    console = common.console()
    console.print(f"linked device {device} (key bound by its link code)")
    if isinstance(sent, CordonClientError):
        console.print(f"history not sent to the new device: {escape(str(sent))}")
    else:
        console.print(f"history sent to the new device: {sent} earlier items")


@device_app.command("revoke")
def device_revoke(group: GroupArg, device: DeviceArg) -> None:
    """Revoke one of your devices in the group's log and on the server."""
    common.run(lambda c: c.revoke_device(group, device))
    common.console().print(f"revoked device {device}")
