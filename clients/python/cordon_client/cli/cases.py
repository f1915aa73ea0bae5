"""`cordon cases …`: seizure cases, a thin typer layer over `cordon_client.cases`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.tree import Tree

from cordon_client._client import Cordon
from cordon_client.cli import forms
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

if TYPE_CHECKING:
    from cordon_client.records.view import CaseView, Item

# The domain (templates, JSON Schema, the record store) is imported by the commands that use
# it: every other `cordon` command starts without it (issue 12, "Speed").

cases_app = typer.Typer(
    help="Seizure cases: create, amend, reply, review, list, show, export, import-csv, template.",
    no_args_is_help=True,
)


def _case_row(case: CaseView, names: Names) -> list[str]:
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
        _who(case.original, names),
    ]


@cases_app.command("create")
def create_case(
    group: Group,
    file: Annotated[Path | None, typer.Option("--file", "-f", exists=True)] = None,
    form: Annotated[str | None, typer.Option(help="full or simplified")] = None,
    urgent: bool = False,
    lang: forms.Lang = None,
) -> None:
    """Post a case from a JSON/YAML file (`cordon cases template` prints one), or answer
    prompts for the simplified form: each answer is checked as it is typed, codes are listed
    with their labels, and nothing is sent until every answer fits."""
    from cordon_client import cases as case_ops
    from cordon_client.records.view import domain_registry

    chosen = form or (None if file else "simplified")
    if file:
        case = _load(file)
    else:
        template = domain_registry().get("seizure-case")
        case = forms.fill_in(template, chosen or template.default_form, forms.language(lang))
    item = _run(lambda c: case_ops.post_case(c, group, case, form=chosen, urgent=urgent))
    _console().print(f"posted case #{item.seq}")


@cases_app.command("template")
def case_template(
    form: Annotated[str | None, typer.Option(help="full (default) or simplified")] = None,
    lang: forms.Lang = None,
) -> None:
    """Print a valid example case as commented YAML: every field, its label and allowed codes."""
    from cordon_client.records.view import domain_registry

    template = domain_registry().get("seizure-case")
    chosen = form or template.default_form
    forms.print_example(
        template,
        chosen,
        forms.language(lang),
        f"cordon cases create GROUP --file FILE.yaml --form {chosen}",
    )


@cases_app.command("amend")
def amend_case(group: Group, case: int, file: InFile, form: str | None = None) -> None:
    """Post a new version of your case; the history is kept."""
    from cordon_client import cases as case_ops

    data = _load(file)
    item = _run(lambda c: case_ops.amend_case(c, group, case, data, form=form))
    _console().print(f"posted version #{item.seq} of case #{case}")


@cases_app.command("reply")
def reply(group: Group, parent: int, text: str) -> None:
    """Reply to a case or to a reply in its thread."""
    from cordon_client import cases as case_ops

    item = _run(lambda c: case_ops.reply(c, group, parent, text))
    _console().print(f"posted reply #{item.seq}")


@cases_app.command("review")
def review(
    group: Group,
    case: int,
    verdict: Annotated[str, typer.Option(help="verified or corrections_requested")],
    note: str | None = None,
) -> None:
    """As a coordinator: mark a case verified or ask for corrections."""
    from cordon_client import cases as case_ops

    item = _run(lambda c: case_ops.review_case(c, group, case, verdict=verdict, note=note))
    _console().print(f"case #{case}: {verdict} (#{item.seq})")


async def _cases(cordon: Cordon, group: uuid.UUID, **filters: Any) -> list[CaseView]:
    from cordon_client import cases as case_ops

    return case_ops.cases(cordon, group, **filters)


@cases_app.command("list")
def list_cases(
    group: Group,
    status: Annotated[list[str] | None, typer.Option(help="unreviewed, verified, …")] = None,
    country: str | None = None,
    handling_code: str | None = None,
    as_json: JsonFlag = False,
) -> None:
    """Cases decrypted on this device, filtered on their fields."""

    async def work(c: Cordon) -> tuple[list[CaseView], Names]:
        found = await _cases(c, group, status=status, country=country, handling_code=handling_code)
        return found, await senders(c, group)

    found, names = _run(work)
    if as_json:
        print_json([case.record() for case in found])
        return
    table = Table("case", "country", "marks", "status", "versions", "replies")
    table.add_column("from", overflow="fold")  # a long name or id folds, never cut at 80 cols
    for case in found:
        table.add_row(*_case_row(case, names))
    _console().print(table)


def _thread_line(item: Item, names: Names) -> str:
    data = item.data or {}
    if item.type == "case_reply":
        what = f"reply: {data.get('text')}"
    elif item.type == "case_review":
        what = f"review: {data.get('verdict')} {data.get('note') or ''}".strip()
    else:
        what = "amended version" if item.type == "seizure_case_amendment" else item.type
    return f"#{item.seq} from {_who(item, names)} ({_mark(item)}): {what}"


@cases_app.command("show")
def show_case(group: Group, case: int) -> None:
    """One case: current version, who sent it, its thread and every refused item."""

    async def work(cordon: Cordon) -> tuple[CaseView | None, Names]:
        views = await _cases(cordon, group)
        found = next((v for v in views if v.seq == case), None)
        if found is not None:
            await mark_read(cordon, found.original)
        return found, await senders(cordon, group)

    view, names = _run(work)
    out = _console()
    if view is None:
        out.print(f"[red]no valid case #{case} on this device[/red]")
        raise typer.Exit(1)
    out.print(f"case #{view.seq} from {_who(view.original, names)} ({_mark(view.original)})")
    out.print(f"status: {view.status}; version {len(view.versions)}")
    out.print_json(json.dumps(view.data, ensure_ascii=False))
    tree = Tree("thread")
    for item in sorted(
        [*view.versions[1:], *view.replies, *view.reviews, *view.refused], key=lambda i: i.seq
    ):
        tree.add(_thread_line(item, names))
    out.print(tree)


@cases_app.command("export")
def export_cases(group: Group, format: Format = "csv", output: Output = None) -> None:
    """Decrypted cases as CSV (one row per item, re-importable) or JSON."""
    from cordon_client.cases.export import export_cases_csv, export_json

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
    from cordon_client import cases as case_ops
    from cordon_client.cases.csvimport import import_cases
    from cordon_client.records.view import domain_registry

    text = file.read_text("utf-8-sig")

    async def work(cordon: Cordon) -> tuple[list[int], int]:
        template = domain_registry().get("seizure-case")
        report = import_cases(text, template, form=form, all_or_nothing=all_or_nothing)
        out = _console()
        for error in report.errors:
            out.print(f"[red]{error}[/red]")
        if report.skipped_cases:
            out.print(f"skipped cases: {', '.join(report.skipped_cases)}")
        if dry_run:
            return [], len(report.errors)
        sent = [(await case_ops.post_case(cordon, group, c, form=form)).seq for c in report.cases]
        return sent, len(report.errors)

    sent, errors = _run(work)
    listing = f": #{', #'.join(map(str, sent))}" if sent else ""
    _console().print(f"imported {len(sent)} case(s){listing}; {errors} row error(s)")
    if errors:
        raise typer.Exit(1)
