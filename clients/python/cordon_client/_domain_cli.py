"""`cordon cases …` and `cordon prenotifications …`: a thin typer layer over `_domain`.

Every command opens the device through `_cli_common.open_client` (``--home``/``$CORDON_HOME``,
default ``~/.cordon``; ``$CORDON_PASSPHRASE`` or a prompt; the profile's server or
``--server``/``$CORDON_SERVER``), syncs, and then acts on what this device decrypted and
verified. The group comes from ``--group`` or ``$CORDON_GROUP``. Exit status: 0 on success,
1 when the client or the server refused (the reason is printed), 1 as well when a CSV import skipped
rows (the valid cases are still sent).
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from cordon_client import _domain as domain
from cordon_client._cli_common import open_client, refusal
from cordon_client._client import Cordon
from cordon_client._csvimport import import_cases
from cordon_client._domainview import CaseView, Item, PrenotificationView
from cordon_client._export import export_cases_csv, export_json, export_prenotifications_csv
from cordon_client._templates import InvalidContentError
from cordon_client._workflow import DISCREPANCY_KINDS, STATUSES
from cordon_client.exceptions import CordonClientError

cases_app = typer.Typer(help="Seizure cases: post, thread, review, amend, list, export, import.")
prenotifications_app = typer.Typer(
    help="Vaccine pre-notifications: send, move through the workflow, list, export."
)
T = TypeVar("T")

Group = Annotated[uuid.UUID, typer.Option("--group", "-g", envvar="CORDON_GROUP")]
InFile = Annotated[Path, typer.Option("--file", "-f", exists=True, dir_okay=False)]
Format = Annotated[str, typer.Option("--format", help="csv or json")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Default: stdout.")]


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _run(work: Callable[[Cordon], Awaitable[T]]) -> T:
    """Open the client, sync, run `work`, and turn refusals into a message and exit 1."""

    async def main() -> T:
        async with open_client() as cordon:
            await domain.sync(cordon)
            return await work(cordon)

    try:
        return asyncio.run(main())
    except InvalidContentError as exc:
        out = _console()
        out.print("[red]refused:[/red] the content does not fit its template")
        for error in exc.errors:
            out.print(f"  {error}")
    except CordonClientError as exc:
        _console().print(f"[red]refused:[/red] {escape(refusal(exc))}")
    raise typer.Exit(1)


def _load(path: Path) -> dict[str, Any]:
    text = path.read_text("utf-8")
    data = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else json.loads(text)
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path} must hold one object")
    return data


@contextmanager
def _out(path: Path | None) -> Iterator[Any]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8", newline="") as fh:
        yield fh


def _who(item: Item) -> str:
    return str(item.sender_user_id) if item.sender_user_id else "server"


def _mark(item: Item) -> str:
    return "[green]verified[/green]" if item.valid else f"[red]refused[/red]: {item.error}"


# -- cases ------------------------------------------------------------------------------------

PROMPTS: list[tuple[str, str, Callable[[str], Any]]] = [
    ("reporting_country", "Reporting country (ISO 3166-1 alpha-2)", str.upper),
    ("handling_code", "Handling code (H0-H3)", str.upper),
    ("source_reliability", "Source reliability (A/B/C/X)", str.upper),
    ("information_accuracy", "Information accuracy (1-4)", int),
    ("reports.seizure_date", "Seizure date (YYYY-MM-DD)", str),
    ("reports.place_type", "Place type (airport, seaport, …)", str),
    ("reports.direction", "Direction (import/export/transit/transhipment)", str),
    ("reports.departure_country", "Departure country", str.upper),
    ("reports.destination_country", "Destination country", str.upper),
    ("reports.transport.mode", "Transport mode (air, sea, road, …)", str),
    ("items.category", "Goods category (medicines, vaccines, …)", str),
    ("items.hs_code", "HS code (e.g. 3004)", str),
    ("items.quantity", "Quantity", float),
    ("items.unit", "Unit (PCE, KGM, LTR, DOS, BX)", str.upper),
]


def _prompt_case() -> dict[str, Any]:
    """The simplified form's mandatory fields, asked one by one."""
    case: dict[str, Any] = {}
    report: dict[str, Any] = {}
    item: dict[str, Any] = {}
    for path, question, convert in PROMPTS:
        value = convert(typer.prompt(question))
        level, _, name = path.partition(".")
        if level == "reports" and name.startswith("transport."):
            report.setdefault("transport", {})[name.split(".")[1]] = value
        elif level == "reports":
            report[name] = value
        elif level == "items":
            item[name] = int(value) if isinstance(value, float) and value.is_integer() else value
        else:
            case[path] = value
    return {**case, "reports": [{**report, "items": [item]}]}


def _case_row(case: CaseView) -> list[str]:
    data = case.data
    marks = f"{data.get('handling_code')}/{data.get('source_reliability')}"
    marks += str(data.get("information_accuracy"))
    return [
        str(case.seq),
        str(data.get("reporting_country")),
        marks,
        case.status,
        str(len(case.versions)),
        str(len(case.replies)),
        str(case.original.sender_user_id),
    ]


@cases_app.command("create")
def create_case(
    group: Group,
    file: Annotated[Path | None, typer.Option("--file", "-f", exists=True)] = None,
    form: Annotated[str | None, typer.Option(help="full or simplified")] = None,
    urgent: bool = False,
) -> None:
    """Post a case from a JSON/YAML file, or answer prompts for the simplified form."""
    case = _load(file) if file else _prompt_case()
    chosen = form or (None if file else "simplified")
    item = _run(lambda c: domain.post_case(c, group, case, form=chosen, urgent=urgent))
    _console().print(f"posted case #{item.seq}")


@cases_app.command("amend")
def amend_case(group: Group, case: int, file: InFile, form: str | None = None) -> None:
    """Post a new version of your case; the history is kept."""
    data = _load(file)
    item = _run(lambda c: domain.amend_case(c, group, case, data, form=form))
    _console().print(f"posted version #{item.seq} of case #{case}")


@cases_app.command("reply")
def reply(group: Group, parent: int, text: str) -> None:
    """Reply to a case or to a reply in its thread."""
    item = _run(lambda c: domain.reply(c, group, parent, text))
    _console().print(f"posted reply #{item.seq}")


@cases_app.command("review")
def review(
    group: Group,
    case: int,
    verdict: Annotated[str, typer.Option(help="verified or corrections_requested")],
    note: str | None = None,
) -> None:
    """As a coordinator: mark a case verified or ask for corrections."""
    item = _run(lambda c: domain.review_case(c, group, case, verdict=verdict, note=note))
    _console().print(f"case #{case}: {verdict} (#{item.seq})")


async def _cases(cordon: Cordon, group: uuid.UUID, **filters: Any) -> list[CaseView]:
    return domain.cases(cordon, group, **filters)


@cases_app.command("list")
def list_cases(
    group: Group,
    status: Annotated[list[str] | None, typer.Option(help="unreviewed, verified, …")] = None,
    country: str | None = None,
    handling_code: str | None = None,
) -> None:
    """Cases decrypted on this device, filtered on their fields."""
    found = _run(
        lambda c: _cases(c, group, status=status, country=country, handling_code=handling_code)
    )
    table = Table("case", "country", "marks", "status", "versions", "replies", "from")
    for case in found:
        table.add_row(*_case_row(case))
    _console().print(table)


def _thread_line(item: Item) -> str:
    data = item.data or {}
    if item.type == "case_reply":
        what = f"reply: {data.get('text')}"
    elif item.type == "case_review":
        what = f"review: {data.get('verdict')} {data.get('note') or ''}".strip()
    else:
        what = "amended version" if item.type == "seizure_case_amendment" else item.type
    return f"#{item.seq} from {_who(item)} ({_mark(item)}): {what}"


@cases_app.command("show")
def show_case(group: Group, case: int) -> None:
    """One case: current version, who sent it, its thread and every refused item."""
    views = _run(lambda c: _cases(c, group))
    view = next((v for v in views if v.seq == case), None)
    out = _console()
    if view is None:
        out.print(f"[red]no valid case #{case} on this device[/red]")
        raise typer.Exit(1)
    out.print(f"case #{view.seq} from {_who(view.original)} ({_mark(view.original)})")
    out.print(f"status: {view.status}; version {len(view.versions)}")
    out.print_json(json.dumps(view.data, ensure_ascii=False))
    tree = Tree("thread")
    for item in sorted(
        [*view.versions[1:], *view.replies, *view.reviews, *view.refused], key=lambda i: i.seq
    ):
        tree.add(_thread_line(item))
    out.print(tree)


@cases_app.command("export")
def export_cases(group: Group, format: Format = "csv", output: Output = None) -> None:
    """Decrypted cases as CSV (one row per item, re-importable) or JSON."""
    records = [v.record() for v in _run(lambda c: _cases(c, group))]
    with _out(output) as fh:
        count = export_cases_csv(records, fh) if format == "csv" else export_json(records, fh)
    if output is not None:
        _console().print(f"exported {count} {'rows' if format == 'csv' else 'cases'}")


@cases_app.command("import-csv")
def import_csv(
    group: Group,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    form: Annotated[str, typer.Option(help="full or simplified")] = "simplified",
    all_or_nothing: bool = False,
    dry_run: Annotated[bool, typer.Option(help="Check only; send nothing.")] = False,
) -> None:
    """Bulk-import seizure reports (one row per item); bad rows are reported, never sent."""
    text = file.read_text("utf-8-sig")

    async def work(cordon: Cordon) -> tuple[list[int], int]:
        template = domain.domain_registry().get("seizure-case")
        report = import_cases(text, template, form=form, all_or_nothing=all_or_nothing)
        out = _console()
        for error in report.errors:
            out.print(f"[red]{error}[/red]")
        if report.skipped_cases:
            out.print(f"skipped cases: {', '.join(report.skipped_cases)}")
        if dry_run:
            return [], len(report.errors)
        sent = [(await domain.post_case(cordon, group, c, form=form)).seq for c in report.cases]
        return sent, len(report.errors)

    sent, errors = _run(work)
    listing = f": #{', #'.join(map(str, sent))}" if sent else ""
    _console().print(f"imported {len(sent)} case(s){listing}; {errors} row error(s)")
    if errors:
        raise typer.Exit(1)


# -- pre-notifications ------------------------------------------------------------------------


def _pn_row(view: PrenotificationView) -> list[str]:
    data = view.data
    status = view.status
    if view.server_status and view.server_status != status:
        status += f" (server: {view.server_status})"
    transport = data.get("transport", {})
    return [
        str(view.id),
        str(view.seq),
        status,
        f"{data.get('sender_country')}→{data.get('destination_country')}",
        str(transport.get("eta", "")),
        str(data.get("product", {}).get("doses", "")),
        str(view.original.sender_user_id),
    ]


@prenotifications_app.command("send")
def send(
    group: Group,
    file: InFile,
    destination: Annotated[list[uuid.UUID], typer.Option(help="Destination user id(s).")],
    transit: Annotated[list[uuid.UUID] | None, typer.Option(help="Transit user id(s).")] = None,
    disclose_eta: Annotated[
        bool, typer.Option(help="Tell the server the ETA (for server-side overdue lists).")
    ] = False,
) -> None:
    """Send a pre-notification to its destination, transit members and the coordinators."""
    data = _load(file)
    record = _run(
        lambda c: domain.send_prenotification(
            c,
            group,
            data,
            destination=destination,
            transit=transit or [],
            disclose_eta=disclose_eta,
        )
    )
    _console().print(f"sent pre-notification {record['id']} (#{record['stream_seq']})")


def _move(group: uuid.UUID, pn: uuid.UUID, to: str, detail: dict[str, Any] | None = None) -> None:
    record = _run(lambda c: domain.transition(c, group, pn, to, detail))
    _console().print(f"pre-notification {pn}: {record['status']}")


@prenotifications_app.command("ack")
def ack(group: Group, pn: uuid.UUID) -> None:
    """As destination: acknowledge receipt of the pre-notification."""
    _move(group, pn, "acknowledged")


@prenotifications_app.command("arrive")
def arrive(group: Group, pn: uuid.UUID) -> None:
    """As destination: record that the shipment arrived."""
    _move(group, pn, "arrived")


@prenotifications_app.command("clear")
def clear(group: Group, pn: uuid.UUID) -> None:
    """As destination: record that the shipment was cleared."""
    _move(group, pn, "cleared")


@prenotifications_app.command("close")
def close(group: Group, pn: uuid.UUID) -> None:
    """As sender or coordinator: close a cleared (or discrepant) pre-notification."""
    _move(group, pn, "closed")


@prenotifications_app.command("cancel")
def cancel(group: Group, pn: uuid.UUID) -> None:
    """As sender: cancel before arrival."""
    _move(group, pn, "cancelled")


@prenotifications_app.command("amend")
def amend(group: Group, pn: uuid.UUID, file: InFile) -> None:
    """As sender: send a new version (it must be acknowledged again)."""
    _move(group, pn, "amended", _load(file))


@prenotifications_app.command("discrepancy")
def discrepancy(
    group: Group,
    pn: uuid.UUID,
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
) -> None:
    """Pre-notifications you are party to, filtered after decryption."""
    found = _run(
        lambda c: domain.prenotifications(
            c,
            group,
            status=status,
            eta_before=_when(eta_before),
            eta_after=_when(eta_after),
            country=country,
            overdue=overdue,
        )
    )
    table = Table("id", "seq", "status", "route", "eta", "doses", "from")
    for view in found:
        table.add_row(*_pn_row(view))
    _console().print(table)


@prenotifications_app.command("show")
def show_prenotification(group: Group, pn: uuid.UUID) -> None:
    """One pre-notification: current version, signed status history, discrepancies."""
    view = _run(lambda c: domain.prenotification(c, group, pn))
    out = _console()
    out.print(
        f"pre-notification {view.id} (#{view.seq}) from {_who(view.original)} "
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
        tree.add(
            f"#{item.seq} by {event.get('actor_user_id') or _who(item)} ({_mark(item)}): {what}"
        )
    out.print(tree)


@prenotifications_app.command("export")
def export_prenotifications(group: Group, format: Format = "csv", output: Output = None) -> None:
    """Decrypted pre-notifications as CSV (one row per lot) or JSON."""
    records = [v.record() for v in _run(lambda c: domain.prenotifications(c, group))]
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
    pn: uuid.UUID,
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
        lambda c: domain.discrepancy_to_case(
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
