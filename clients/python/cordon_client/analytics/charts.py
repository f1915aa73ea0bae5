"""The report's charts, drawn by matplotlib (SVG inline in the HTML, PNG in the PDF).

matplotlib's object API is used without pyplot (no global state, no display); each chart is a
function of the table and the language, so HTML and PDF show the same figures.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from cordon_client.analytics.messages import label, text

BLUE, TEAL = "#1f4e79", "#2a9d8f"


def _compact(value: float, _: object = None) -> str:
    """Axis numbers people read at a glance: 950, 12k, 273.6M."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}".removesuffix(".0") + suffix
    return f"{value:.0f}"


def _bars(
    names: Sequence[str], values: Sequence[float], title: str, *, horizontal: bool = False
) -> Figure:
    fig = Figure(figsize=(6.4, 2.8), dpi=100)
    # fixed margins: a layout engine measured every label and took half the render time
    fig.subplots_adjust(left=0.36 if horizontal else 0.1, right=0.97, top=0.88, bottom=0.2)
    axes = fig.add_subplot()
    if horizontal:
        axes.barh(list(names)[::-1], list(values)[::-1], color=TEAL)
    else:
        axes.bar(list(names), list(values), color=BLUE)
    values_axis = axes.xaxis if horizontal else axes.yaxis
    values_axis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    values_axis.set_major_formatter(FuncFormatter(_compact))
    axes.set_title(title, fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8)
    return fig


def regions(table: Mapping[str, Any], lang: str) -> Figure:
    """Cases per WCO region."""
    rows = table["by_region"]
    return _bars(
        [r["region"] for r in rows],
        [r["cases"] for r in rows],
        f"{text('by_region', lang)}: {text('cases', lang)}",
    )


def weeks(table: Mapping[str, Any], lang: str) -> Figure:
    """Cases per ISO week of the case date."""
    rows = table["by_week"]
    fig = _bars([r["week"][5:] for r in rows], [r["cases"] for r in rows], text("by_week", lang))
    fig.axes[0].tick_params(axis="x", labelrotation=90, labelsize=7)
    return fig


def categories(table: Mapping[str, Any], lang: str) -> Figure:
    """Pieces per figure category (medicines, medical devices, vaccine doses, other)."""
    pieces = table["key_figures"]["pieces"]
    names = ("medicines", "medical_devices", "vaccine_doses", "other")
    return _bars(
        [text(n, lang) for n in names],
        [pieces[n] for n in names],
        text("category_mix", lang),
        horizontal=True,
    )


def funnel(table: Mapping[str, Any], lang: str) -> Figure:
    """Pre-notifications: sent (not cancelled), acknowledged, before the ETA, arrived."""
    pre = table["prenotifications"]
    steps = ("sent", "acknowledged", "acknowledged_before_eta", "arrived")
    values = [pre["sent"] - pre["cancelled"], *(pre[s] for s in steps[1:])]
    return _bars(
        [text(s, lang) for s in steps], values, text("prenotifications", lang), horizontal=True
    )


def counts(table: Mapping[str, Any], key: str, vocabulary: str, lang: str) -> Figure:
    """Seizure reports per code of a vocabulary (mode, detection method, place)."""
    rows = table[key]
    return _bars(
        [label(vocabulary, code, lang) for code in rows],
        list(rows.values()),
        f"{text('reports_by', lang)} {text(key.removeprefix('by_'), lang)}",
        horizontal=True,
    )


def svg(fig: Figure) -> str:
    """The chart as an SVG element to inline."""
    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none"}):  # text stays text: small, searchable
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    body = buffer.getvalue()
    return body[body.index("<svg") :]


def png(fig: Figure, dpi: int = 100) -> bytes:
    """The chart as PNG bytes (for the PDF)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
