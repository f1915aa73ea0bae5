"""`cordon prenotifications …`: a thin typer layer over `cordon_client.prenotifications`."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.tree import Tree

from cordon_client import prenotifications as pn_ops
from cordon_client._client import Cordon
from cordon_client.cases.export import export_json, export_prenotifications_csv
from cordon_client.cli import forms, ids
from cordon_client.cli.ids import PrenotificationArg
from cordon_client.cli.output import JsonFlag, Names, print_json
from cordon_client.cli.records import (
    Format,
    Group,
    InFile,
    Output,
    _console,
    _load,
    _mark,
    _out,
    _run,
    _who,
    mark_read,
    senders,
)
from cordon_client.groups import shortid
from cordon_client.records.view import Item, PrenotificationView, domain_registry
from cordon_client.records.workflow import DISCREPANCY_KINDS, STATUSES

# Unlike `cli.cases`, the domain is imported here at once: `cli.records`, which both import,
# loads the record store and the templates anyway, and this module is loaded only for a
# command group or `--help` (`cli.entry`), never for a top-level verb.

prenotifications_app = typer.Typer(
    help=(
        "Vaccine pre-notifications: send, ack, arrive, clear, close, cancel, amend, discrepancy,"
        " list, show, export, to-case, template."
    ),
    no_args_is_help=True,
)


def _pn_row(view: PrenotificationView, every: list[uuid.UUID], names: Names) -> list[str]:
    data = view.data
    status = view.status
    if view.server_status and view.server_status != status:
        status += f" (server: {view.server_status})"
    transport = data.get("transport", {})
    return [
        shortid.short(uuid.UUID(view.id), every) if view.id else "-",
        str(view.seq),
        status,
        f"{data.get('sender_country')}→{data.get('destination_country')}",
        str(transport.get("eta", "")),
        str(data.get("product", {}).get("doses", "")),
        _who(view.original, names),
    ]


@prenotifications_app.command("send")
def send(
    group: Group,
    file: InFile,
    destination: Annotated[
        list[uuid.UUID],
        typer.Option(help="Destination member(s): username or user id.", parser=ids.parser("user")),
    ],
    transit: Annotated[
        list[uuid.UUID] | None,
        typer.Option(help="Transit member(s): username or user id.", parser=ids.parser("user")),
    ] = None,
    disclose_eta: Annotated[
        bool, typer.Option(help="Tell the server the ETA (for server-side overdue lists).")
    ] = False,
) -> None:
    """Send a pre-notification to its destination, transit members and the coordinators
    (`cordon prenotifications template` prints a valid example file)."""
    data = _load(file)
    record = _run(
        lambda c: pn_ops.send_prenotification(
            c,
            group,
            data,
            destination=destination,
            transit=transit or [],
            disclose_eta=disclose_eta,
        )
    )
    _console().print(f"sent pre-notification {record['id']} (#{record['stream_seq']})")


@prenotifications_app.command("template")
def prenotification_template(lang: forms.Lang = None) -> None:
    """Print a valid example pre-notification as commented YAML: every field, its label, codes."""

    forms.print_example(
        domain_registry().get("vaccine-prenotification"),
        None,
        forms.language(lang),
        "cordon prenotifications send GROUP --file FILE.yaml --destination USER_ID",
    )


def _move(group: uuid.UUID, pn: uuid.UUID, to: str, detail: dict[str, Any] | None = None) -> None:
    record = _run(lambda c: pn_ops.transition(c, group, pn, to, detail))
    _console().print(f"pre-notification {pn}: {record['status']}")


@prenotifications_app.command("ack")
def ack(group: Group, pn: PrenotificationArg) -> None:
    """As destination: acknowledge receipt of the pre-notification."""
    _move(group, pn, "acknowledged")


@prenotifications_app.command("arrive")
def arrive(group: Group, pn: PrenotificationArg) -> None:
    """As destination: record that the shipment arrived."""
    _move(group, pn, "arrived")


@prenotifications_app.command("clear")
def clear(group: Group, pn: PrenotificationArg) -> None:
    """As destination: record that the shipment was cleared."""
    _move(group, pn, "cleared")


@prenotifications_app.command("close")
def close(group: Group, pn: PrenotificationArg) -> None:
    """As sender or coordinator: close a cleared (or discrepant) pre-notification."""
    _move(group, pn, "closed")


@prenotifications_app.command("cancel")
def cancel(group: Group, pn: PrenotificationArg) -> None:
    """As sender: cancel before arrival."""
    _move(group, pn, "cancelled")


@prenotifications_app.command("amend")
def amend(group: Group, pn: PrenotificationArg, file: InFile) -> None:
    """As sender: send a new version (it must be acknowledged again)."""
    _move(group, pn, "amended", _load(file))


@prenotifications_app.command("discrepancy")
def discrepancy(
    group: Group,
    pn: PrenotificationArg,
    kind: Annotated[str, typer.Option(help=", ".join(DISCREPANCY_KINDS))],
    details: Annotated[str, typer.Option(help="What was found.")],
    lot: Annotated[list[str] | None, typer.Option(help="Lot number(s) concerned.")] = None,
    quantity_found: float | None = None,
    temperature_c: float | None = None,
) -> None:
    """As destination: record a discrepancy (quantity, temperature, suspected falsification)."""
    finding: dict[str, Any] = {"kind": kind, "details": details}
    if lot:
        finding["lots"] = lot
    if quantity_found is not None:
        finding["quantity_found"] = quantity_found
    if temperature_c is not None:
        finding["temperature_c"] = temperature_c
    _move(group, pn, "discrepancy", finding)


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


@prenotifications_app.command("list")
def list_prenotifications(
    group: Group,
    status: Annotated[list[str] | None, typer.Option(help=", ".join(STATUSES))] = None,
    eta_before: Annotated[str | None, typer.Option(help="ISO 8601 with offset")] = None,
    eta_after: Annotated[str | None, typer.Option(help="ISO 8601 with offset")] = None,
    country: Annotated[str | None, typer.Option(help="Sender, destination or transit")] = None,
    overdue: Annotated[
        bool | None, typer.Option("--overdue/--not-overdue", help="Not acknowledged by ETA")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Pre-notifications you are party to, filtered after decryption (type one by its seq
    or the id shown)."""

    async def work(c: Cordon) -> tuple[list[PrenotificationView], Names]:
        found = await pn_ops.prenotifications(
            c,
            group,
            status=status,
            eta_before=_when(eta_before),
            eta_after=_when(eta_after),
            country=country,
            overdue=overdue,
        )
        return found, await senders(c, group)

    found, names = _run(work)
    if as_json:
        print_json([view.record() for view in found])
        return
    every = [uuid.UUID(v.id) for v in found if v.id]
    table = Table("id", "seq", "status", "route", "eta", "doses", "from")
    for view in found:
        table.add_row(*_pn_row(view, every, names))
    _console().print(table)


def _actor(item: Item, names: Names) -> str:
    """Who acted: a status event's signed actor, else the item's sender, as labelled."""
    actor = (item.event or {}).get("actor_user_id")
    if not actor:
        return _who(item, names)
    try:
        member = names.get(uuid.UUID(str(actor)))
    except ValueError:
        return str(actor)
    return member.label if member is not None else str(actor)


@prenotifications_app.command("show")
def show_prenotification(group: Group, pn: PrenotificationArg) -> None:
    """One pre-notification: current version, signed status history, discrepancies."""

    async def work(cordon: Cordon) -> tuple[PrenotificationView, Names]:
        found = await pn_ops.prenotification(cordon, group, pn)
        await mark_read(cordon, found.original)
        return found, await senders(cordon, group)

    view, names = _run(work)
    out = _console()
    out.print(
        f"pre-notification {view.id} (#{view.seq}) from {_who(view.original, names)} "
        f"({_mark(view.original)})"
    )
    out.print(f"status: {view.status}; version {len(view.versions)}")
    out.print_json(json.dumps(view.data, ensure_ascii=False))
    tree = Tree("history")
    for item in sorted(
        [*view.events, *view.versions[1:], *view.discrepancies, *view.refused], key=lambda i: i.seq
    ):
        event = item.event or {}
        what = (
            f"{event.get('from')} → {event.get('to')}"
            if item.type == "status_event"
            else f"{item.type}: {json.dumps(item.data, ensure_ascii=False)}"
        )
        tree.add(f"#{item.seq} by {_actor(item, names)} ({_mark(item)}): {what}")
    out.print(tree)


@prenotifications_app.command("export")
def export_prenotifications(group: Group, format: Format = "csv", output: Output = None) -> None:
    """Decrypted pre-notifications as CSV (one row per lot) or JSON."""
    records = [v.record() for v in _run(lambda c: pn_ops.prenotifications(c, group))]
    with _out(output) as fh:
        count = (
            export_prenotifications_csv(records, fh)
            if format == "csv"
            else export_json(records, fh)
        )
    if output is not None:
        _console().print(f"exported {count} {'rows' if format == 'csv' else 'records'}")


@prenotifications_app.command("to-case")
def to_case(
    group: Group,
    pn: PrenotificationArg,
    reporting_country: Annotated[str, typer.Option(help="Your country (ISO alpha-2)")],
    kind: Annotated[str | None, typer.Option(help="Default: the recorded discrepancy")] = None,
    seizure_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD, default today")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the draft instead of posting.")
    ] = None,
) -> None:
    """Turn a discrepancy into a pre-filled seizure case and post it (or write a draft)."""
    when = date.fromisoformat(seizure_date) if seizure_date else None
    case, item = _run(
        lambda c: pn_ops.discrepancy_to_case(
            c,
            group,
            pn,
            reporting_country=reporting_country.upper(),
            kind=kind,
            seizure_date=when,
            post=output is None,
        )
    )
    if output is not None:
        output.write_text(json.dumps(case, ensure_ascii=False, indent=2) + "\n", "utf-8")
        _console().print(f"draft case written to {output}")
    elif item is not None:
        _console().print(f"posted case #{item.seq} from pre-notification {pn}")
