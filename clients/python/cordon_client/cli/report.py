"""`cordon report GROUP`: the operation's figures, charts and reports, computed on this device.

It syncs, computes the table of docs/ANALYTICS.md from the verified local archive, and writes
HTML (charts inline), PDF, CSV and JSON; `--publish` puts the HTML and PDF in the group's
library in the preset's category. Non-nominal unless `--highlights` names cases to show.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cordon_client._client import Cordon
from cordon_client.cli import common
from cordon_client.cli.common import GroupArg
from cordon_client.cli.output import JsonFlag, print_json

DAY = {"formats": ["%Y-%m-%d"], "show_default": False, "metavar": "YYYY-MM-DD"}


def _seqs(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise typer.BadParameter("case numbers separated by commas, e.g. 12,40") from None


def _formats(text: str) -> list[str]:
    from cordon_client.analytics.report import FORMATS  # noqa: PLC0415

    chosen = [f.strip().lower() for f in text.split(",") if f.strip()]
    wrong = [f for f in chosen if f not in FORMATS]
    if wrong or not chosen:
        raise typer.BadParameter(f"formats are {', '.join(FORMATS)}")
    return chosen


def report_command(
    group: GroupArg,
    from_: Annotated[
        datetime | None, typer.Option("--from", help="First case date (inclusive).", **DAY)
    ] = None,
    to: Annotated[
        datetime | None, typer.Option("--to", help="Last case date (inclusive).", **DAY)
    ] = None,
    phase: Annotated[
        str | None, typer.Option(help="A phase named in --phases: its dates are the period.")
    ] = None,
    phases: Annotated[
        Path | None,
        typer.Option(
            exists=True, dir_okay=False, help='JSON [{"name", "from", "to"}] of the phases.'
        ),
    ] = None,
    weekly_newsletter: Annotated[
        bool, typer.Option("--weekly-newsletter", help="The 7 days ending --to (or today).")
    ] = False,
    daily_report: Annotated[
        bool, typer.Option("--daily-report", help="The day --to (or today).")
    ] = False,
    analysis_report: Annotated[
        bool, typer.Option("--analysis-report", help="Every section, over the period or phase.")
    ] = False,
    formats: Annotated[
        str, typer.Option("--format", help="Comma-separated: html,pdf,csv,json.")
    ] = "html,pdf,csv,json",
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write to.")] = Path("."),
    lang: Annotated[
        str, typer.Option(help="en, fr, es, ru, ar or pt (the templates' languages).")
    ] = "en",
    highlights: Annotated[
        str | None,
        typer.Option(help="Add these cases (numbers, comma-separated) as named highlights."),
    ] = None,
    publish: Annotated[
        bool, typer.Option("--publish", help="Publish HTML and PDF to the group's library.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Compute the operation's key figures on this device and write the reports.

    Figures follow docs/ANALYTICS.md; items that failed validation or verification are left
    out and counted in the "Not counted" section with the reason.
    """
    from cordon_client.analytics import report  # noqa: PLC0415 - matplotlib only here
    from cordon_client.analytics.figures import Params  # noqa: PLC0415
    from cordon_client.records import store  # noqa: PLC0415
    from cordon_client.templates.registry import LANGUAGES  # noqa: PLC0415

    presets = [
        name
        for name, on in (
            ("weekly_newsletter", weekly_newsletter),
            ("daily_report", daily_report),
            ("analysis_report", analysis_report),
        )
        if on
    ]
    if len(presets) > 1:
        raise typer.BadParameter(
            "choose one of --weekly-newsletter, --daily-report, --analysis-report"
        )
    preset = presets[0] if presets else None
    if lang not in LANGUAGES:
        raise typer.BadParameter(f"--lang is one of {', '.join(LANGUAGES)}")
    chosen_formats = _formats(formats)
    chosen_seqs = _seqs(highlights)
    phase_list = report.load_phases(phases)
    if phase is not None and not any(p.name == phase for p in phase_list):
        raise typer.BadParameter(f"phase {phase!r} is not in --phases")
    today = datetime.now(UTC).date()
    start, end = report.preset_period(
        preset,
        from_.date() if from_ else None,
        to.date() if to else None,
        today,
    )
    if phase is not None:
        picked = next(p for p in phase_list if p.name == phase)
        start, end = picked.start, picked.end
    params = Params(start, end, phase_list, report.now(), phase)
    timings = report.Timings()

    async def sync(cordon: Cordon) -> None:
        clock = time.perf_counter()
        await store.sync_all(cordon)  # a cold device has many pages waiting
        timings.sync = time.perf_counter() - clock

    async def work(cordon: Cordon) -> dict[str, Any]:
        table, items = report.compute(cordon, group, params, timings)
        picked = report.chosen_highlights(items, chosen_seqs)
        paths = report.write(
            table,
            out,
            report.stem_of(preset, params),
            formats=chosen_formats,
            lang=lang,
            preset=preset,
            chosen=picked,
            timings=timings,
        )
        published = await report.publish(cordon, group, paths, preset) if publish else []
        return {
            "files": [str(p) for p in paths],
            "published": [
                {"document_id": str(p.document_id), "version": p.version} for p in published
            ],
            "key_figures": table["key_figures"],
            "not_counted": sum(r["count"] for r in table["not_counted"]),
            "seconds": report.timings_json(timings),
        }

    try:
        done = common.run(work, prepare=sync)
    except ValueError as exc:  # a highlight that is not a counted case
        raise typer.BadParameter(str(exc)) from None
    if as_json:
        print_json(done)
        return
    key = done["key_figures"]
    console = common.console()
    console.print(
        f"{key['members_reporting']} members reported {key['cases']} cases in "
        f"{key['seizure_reports']} seizure reports; {done['not_counted']} items not counted",
        highlight=False,
    )
    for path in done["files"]:
        console.print(f"wrote {path}", highlight=False)
    for doc in done["published"]:
        console.print(f"published {doc['document_id']} version {doc['version']}", highlight=False)
