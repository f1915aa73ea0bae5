"""`cordon report` as SDK calls: the period of a preset, the table from the local archive,
the files, and publication to the group's library in the product's category.

The table is computed only from what this device holds after a sync (`records.store`):
figures never come from the server, which sees ciphertext only.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cordon_client._client import Cordon
from cordon_client.analytics import render
from cordon_client.analytics.figures import Params, Phase, analyse, highlights
from cordon_client.library.client import Published
from cordon_client.records.store import archived

FORMATS = ("html", "pdf", "csv", "json")
CATEGORY = {
    "weekly_newsletter": "newsletter",
    "daily_report": "daily_report",
    "analysis_report": "analysis_report",
    None: "analysis_report",
}
PUBLISHED_FORMATS = ("html", "pdf")


def preset_period(
    preset: str | None, start: date | None, end: date | None, today: date
) -> tuple[date | None, date | None]:
    """The period a preset covers: the 7 days / the day ending `end` (default today)."""
    if preset == "weekly_newsletter":
        last = end or today
        return last - timedelta(days=6), last
    if preset == "daily_report":
        last = end or today
        return last, last
    return start, end


def load_phases(path: Path | None) -> tuple[Phase, ...]:
    """Phases from a JSON file ``[{"name", "from", "to"}]`` (none without a file)."""
    if path is None:
        return ()
    raw = json.loads(path.read_text("utf-8"))
    return tuple(Params.from_json({"phases": raw}).phases)


@dataclass
class Timings:
    """Where the time went, so the slow part is visible (seconds)."""

    sync: float = 0.0  # receive, decrypt, verify, validate, archive
    load: float = 0.0  # read the archive from the keystore
    aggregate: float = 0.0
    render: dict[str, float] = field(default_factory=dict)


def compute(
    cordon: Cordon, group_id: uuid.UUID, params: Params, timings: Timings | None = None
) -> tuple[dict[str, Any], list[Any]]:
    """The table over the group's local archive (call after a sync), and the items."""
    clock = time.perf_counter()
    items = archived(cordon, group_id)
    loaded = time.perf_counter()
    table = analyse(items, params)
    if timings is not None:
        timings.load, timings.aggregate = loaded - clock, time.perf_counter() - loaded
    return table, items


def write(
    table: dict[str, Any],
    out_dir: Path,
    stem: str,
    *,
    formats: Sequence[str] = FORMATS,
    lang: str = "en",
    preset: str | None = None,
    chosen: Sequence[dict[str, Any]] = (),
    timings: Timings | None = None,
) -> list[Path]:
    """Write the report files; returns their paths in `formats` order."""
    sections = render.PRESETS.get(preset or "", render.ALL_SECTIONS)
    makers: dict[str, Callable[[], str | bytes]] = {
        "html": lambda: render.to_html(
            table, lang=lang, sections=sections, kind=preset, highlights=chosen
        ),
        "pdf": lambda: render.to_pdf(
            table, lang=lang, sections=sections, kind=preset, highlights=chosen
        ),
        "csv": lambda: render.to_csv(table),
        "json": lambda: render.to_json(table),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        clock = time.perf_counter()
        body = makers[fmt]()
        path = out_dir / f"{stem}.{fmt}"
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body, "utf-8")
        if timings is not None:
            timings.render[fmt] = time.perf_counter() - clock
        paths.append(path)
    return paths


def stem_of(preset: str | None, params: Params) -> str:
    """A file name saying what the report covers, e.g. ``daily-report-2021-06-03``."""
    kind = (preset or "report").replace("_", "-")
    if params.phase:
        return f"{kind}-phase-{params.phase}"
    start = params.start.isoformat() if params.start else "start"
    end = params.end.isoformat() if params.end else "now"
    return f"{kind}-{start}" if start == end else f"{kind}-{start}_{end}"


def chosen_highlights(items: list[Any], seqs: Sequence[int]) -> list[dict[str, Any]]:
    """The highlights asked for (`--highlights`), checked against the counted cases."""
    return highlights(items, seqs) if seqs else []


async def publish(
    cordon: Cordon, group_id: uuid.UUID, paths: Sequence[Path], preset: str | None
) -> list[Published]:
    """Encrypt and publish the HTML and PDF to the group's library in the preset's category
    (coordinators); members get them pushed like any document."""
    out = []
    for path in paths:
        if path.suffix.lstrip(".") in PUBLISHED_FORMATS:
            out.append(await cordon.publish_document(group_id, path, category=CATEGORY[preset]))
    return out


def timings_json(timings: Timings) -> dict[str, Any]:
    """Seconds per step, rounded to the millisecond."""
    return {
        "sync": round(timings.sync, 3),
        "load": round(timings.load, 3),
        "aggregate": round(timings.aggregate, 3),
        "render": {k: round(v, 3) for k, v in timings.render.items()},
    }


def now() -> datetime:
    """The moment overdue pre-notifications are judged at."""
    return datetime.now(UTC)
