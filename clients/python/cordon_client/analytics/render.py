"""The table as the products members receive: self-contained HTML, PDF, CSV and JSON.

HTML inlines its SVG charts and style (no script, no external resource), so it opens offline
from the library. The PDF (fpdf2) embeds the same charts as PNG and the DejaVu font matplotlib
ships, so every label of the templates' languages prints. CSV is one row per figure
(`section, key, metric, value`) for national systems; JSON is the table itself.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cordon_client.analytics import charts
from cordon_client.analytics.messages import arrow, date, direction, label, text

ALL_SECTIONS = (
    "key_figures",
    "by_region",
    "by_country",
    "by_phase",
    "by_week",
    "category_mix",
    "reports_by",
    "channels",
    "top_routes",
    "first_seen",
    "prenotifications",
    "highlights",
    "not_counted",
)
PRESETS: Mapping[str, tuple[str, ...]] = {
    "weekly_newsletter": (
        "key_figures",
        "by_region",
        "category_mix",
        "top_routes",
        "first_seen",
        "highlights",
        "not_counted",
    ),
    "daily_report": (
        "key_figures",
        "by_region",
        "prenotifications",
        "first_seen",
        "highlights",
        "not_counted",
    ),
    "analysis_report": ALL_SECTIONS,
}
REPORTS_BY = (
    ("by_transport_mode", "transport_modes"),
    ("by_detection_method", "detection_methods"),
    ("by_place_type", "place_types"),
    ("by_direction", "directions"),
)
PIECES = ("medicines", "medical_devices", "vaccine_doses", "other", "total")


def to_json(table: Mapping[str, Any]) -> str:
    """The table as JSON (the same object `analyse` returns)."""
    return json.dumps(table, indent=1, ensure_ascii=False) + "\n"


def _flat_metric(section: str, key: str, metric: str, value: Any) -> Iterator[list[Any]]:
    if isinstance(value, Mapping):
        for name, inner in value.items():
            yield from _flat_metric(section, key, f"{metric}.{name}" if metric else name, inner)
    elif not isinstance(value, list):
        yield [section, key, metric, value]


_ROW_KEYS = {
    "by_region": ("region",),
    "by_country": ("country",),
    "by_phase": ("phase",),
    "by_week": ("week",),
    "top_routes": ("departure", "destination"),
    "other_units": ("unit", "category"),
    "not_counted": ("what", "reason"),
}


def to_csv(table: Mapping[str, Any]) -> str:
    """One row per figure: ``section,key,metric,value`` (key names the row of a breakdown)."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    out.writerow(["section", "key", "metric", "value"])
    for section, value in table.items():
        if section == "period":
            for name, inner in value.items():
                out.writerow([section, "", name, "" if inner is None else inner])
        elif section in _ROW_KEYS:
            for row in value:
                key = " -> ".join(str(row[k]) for k in _ROW_KEYS[section])
                for name, inner in row.items():
                    if name not in _ROW_KEYS[section]:
                        out.writerows(_flat_metric(section, key, name, inner))
        elif section == "first_seen":
            for kind, rows in value.items():
                for row in rows:
                    key = " ".join(str(v) for k, v in row.items() if k not in ("cases",))
                    out.writerow([f"first_seen.{kind}", key, "cases", row["cases"]])
        elif isinstance(value, Mapping):
            out.writerows(_flat_metric(section, "", "", value))
    return buffer.getvalue()


SHOWN_NEW = 15
"""New product types and routes shown in HTML and PDF, each (the most cases first); the CSV
and JSON list them all. Over a whole operation every route is new: thousands of rows."""


def _most_cases(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    ranked = sorted(rows, key=lambda r: (-int(r["cases"]), str(r["first_date"])))
    return ranked[:SHOWN_NEW]


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _texts(lang: str, *keys: str) -> list[str]:
    return [text(k, lang) for k in keys]


def _rows(table: Mapping[str, Any], section: str, lang: str) -> tuple[list[str], list[list[str]]]:
    """A section as a header and rows of text (shared by HTML and PDF)."""
    if section == "by_region":
        head = _texts(lang, "region", "members_reporting", "cases", "seizure_reports", *PIECES)
        rows = [
            [
                label("regions", r["region"], lang),
                *(_number(r[k]) for k in ("members_reporting", "cases", "seizure_reports")),
                *(_number(r["pieces"][p]) for p in PIECES),
            ]
            for r in table["by_region"]
        ]
    elif section == "by_country":
        head = _texts(lang, "country", "region", "cases", "seizure_reports", "total")
        rows = [
            [
                label("countries", r["country"], lang),
                r["region"],
                _number(r["cases"]),
                _number(r["seizure_reports"]),
                _number(r["pieces"]["total"]),
            ]
            for r in table["by_country"]
        ]
    elif section in ("by_phase", "by_week"):
        key = section.removeprefix("by_")
        head = [
            text(key if key == "phase" else "by_week", lang),
            text("cases", lang),
            text("seizure_reports", lang),
            text("total", lang),
        ]
        rows = [
            [
                str(r[key]),
                _number(r["cases"]),
                _number(r["seizure_reports"]),
                _number(r["pieces_total"]),
            ]
            for r in table[section]
        ]
    elif section == "top_routes":
        head = _texts(lang, "departure", "destination", "seizure_reports", "cases")
        rows = [
            [
                label("countries", r["departure"], lang),
                label("countries", r["destination"], lang),
                _number(r["seizure_reports"]),
                _number(r["cases"]),
            ]
            for r in table["top_routes"]
        ]
    elif section == "first_seen":
        head = [
            text("product_type", lang) + " / " + text("route", lang),
            text("first_date", lang),
            text("cases", lang),
        ]
        seen = {kind: _most_cases(rows) for kind, rows in table["first_seen"].items()}
        rows = [
            [
                f"{label('goods_categories', r['category'], lang)} (HS {r['hs_code']})",
                r["first_date"],
                _number(r["cases"]),
            ]
            for r in seen["product_types"]
        ]
        rows += [
            [
                f"{label('countries', r['departure'], lang)} {arrow(lang)} "
                f"{label('countries', r['destination'], lang)}",
                r["first_date"],
                _number(r["cases"]),
            ]
            for r in seen["routes"]
        ]
        hidden = sum(len(v) for v in table["first_seen"].values()) - len(rows)
        if hidden:
            rows.append([text("more_in_csv", lang).format(n=hidden), "", ""])
    elif section == "prenotifications":
        pre = table["prenotifications"]
        hours = pre["hours_to_first_ack"]
        head = ["", ""]
        rows = [
            [text(k, lang), _number(pre[k])]
            for k in (
                "sent",
                "cancelled",
                "doses",
                "acknowledged",
                "acknowledged_before_eta",
                "arrived",
                "overdue",
            )
        ]
        share = pre["share_acknowledged_before_eta"]
        rows[4][1] += f" ({share:.1%})" if share is not None else ""
        rows.append(
            [
                text("hours_to_first_ack", lang),
                " / ".join(_number(hours[k]) for k in ("median", "p90", "max")),
            ]
        )
        rows += [
            [f"{text('discrepancies', lang)}: {k}", _number(v)]
            for k, v in pre["discrepancies"].items()
        ]
    elif section == "channels":
        head = ["", ""]
        rows = [[text(k, lang), _number(v)] for k, v in table["channels"].items()]
        rows.append([text("concealment", lang), _number(table["concealment"]["reported"])])
    elif section == "not_counted":
        head = [text("what", lang), text("reason", lang), text("count", lang)]
        rows = [[r["what"], r["reason"], _number(r["count"])] for r in table["not_counted"]]
    elif section == "other_units":
        head = [text("other_units", lang), "", ""]
        rows = [
            [r["unit"], label("goods_categories", r["category"], lang), _number(r["quantity"])]
            for r in table["other_units"]
        ]
    else:
        raise ValueError(section)
    return head, rows


def _charts_of(section: str, table: Mapping[str, Any], lang: str) -> list[Any]:
    if section == "by_region":
        return [charts.regions(table, lang)]
    if section == "by_week" and table["by_week"]:
        return [charts.weeks(table, lang)]
    if section == "category_mix":
        return [charts.categories(table, lang)]
    if section == "prenotifications":
        return [charts.funnel(table, lang)]
    if section == "reports_by":
        return [charts.counts(table, key, vocab, lang) for key, vocab in REPORTS_BY]
    return []


_HEADINGS = {
    "by_region": "by_region",
    "by_country": "by_country",
    "by_phase": "by_phase",
    "by_week": "by_week",
    "category_mix": "category_mix",
    "reports_by": "reports_by",
    "channels": "channels",
    "top_routes": "top_routes",
    "first_seen": "first_seen",
    "prenotifications": "prenotifications",
    "highlights": "highlights",
    "not_counted": "not_counted",
}
_TABLED = frozenset(
    {
        "by_region",
        "by_country",
        "by_phase",
        "by_week",
        "top_routes",
        "first_seen",
        "prenotifications",
        "channels",
        "not_counted",
    }
)


def _title(kind: str | None, lang: str) -> str:
    return text(kind or "title", lang)


def _period(table: Mapping[str, Any], lang: str) -> str:
    period = table["period"]
    span = f"{date(period['from'] or '…', lang)} – {date(period['to'] or '…', lang)}"
    if period["from"] is None and period["to"] is None:
        span = text("all_dates", lang)
    phase = f", {text('phase', lang)} {period['phase']}" if period["phase"] else ""
    return f"{text('period', lang)}: {span}{phase}"


def _key_panel(table: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    key = table["key_figures"]
    return [
        (_number(key["members_reporting"]), text("members_reporting", lang)),
        (_number(key["cases"]), text("cases", lang)),
        (_number(key["seizure_reports"]), text("seizure_reports", lang)),
        *(
            (_number(key["pieces"][p]), text(p, lang))
            for p in ("medicines", "medical_devices", "vaccine_doses")
        ),
    ]


def _highlight_lines(case: Mapping[str, Any], lang: str) -> tuple[str, list[str]]:
    country = label("countries", case["country"], lang)
    head = f"#{case['seq']} · {country} · {date(case['date'], lang)}"
    lines = []
    for report in case["reports"]:
        route = (
            f"{label('countries', report['departure'], lang)} {arrow(lang)} "
            f"{label('countries', report['destination'], lang)}"
        )
        goods = "; ".join(
            f"{label('goods_categories', i['category'], lang)} {_number(i['quantity'])} "
            f"{i['unit']}" + (f" ({i['description']})" if i.get("description") else "")
            for i in report["items"]
        )
        lines.append(f"{route}: {goods}")
    return head, lines


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
h1{color:#1f4e79}h2{border-bottom:2px solid #1f4e79;padding-bottom:.2em;margin-top:2em}
.panel{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:1em}
.figure{background:#eef3f8;border-radius:6px;padding:1em}
.figure b{display:block;font-size:1.8em;color:#1f4e79}
table{border-collapse:collapse;width:100%;font-size:.9em}
td,th{border-bottom:1px solid #ccc;padding:.3em .5em;text-align:start}
td.n,th.n{text-align:end}svg{max-width:100%;height:auto}.note{color:#555;font-size:.9em}
"""


def _html_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    esc = html.escape
    out = ["<table>"]
    if any(head):
        out.append("<tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>")
    for row in rows:
        cells = "".join(
            f'<td class="n">{esc(c)}</td>' if i and c[:1].isdigit() else f"<td>{esc(c)}</td>"
            for i, c in enumerate(row)
        )
        out.append(f"<tr>{cells}</tr>")
    return "\n".join([*out, "</table>"])


def to_html(
    table: Mapping[str, Any],
    *,
    lang: str = "en",
    sections: Sequence[str] = ALL_SECTIONS,
    kind: str | None = None,
    highlights: Sequence[Mapping[str, Any]] = (),
) -> str:
    """A self-contained HTML report (inline style and SVG charts; no script, no link)."""
    esc = html.escape
    title = _title(kind, lang)
    parts = [
        f'<!doctype html><html lang="{esc(lang)}" dir="{direction(lang)}">'
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1><p>{esc(_period(table, lang))}</p>",
        f'<p class="note">{esc(text("computed", lang))}. {esc(text("non_nominal", lang))}</p>',
    ]
    for section in sections:
        if section == "key_figures":
            parts.append(f'<h2>{esc(text("key_figures", lang))}</h2><div class="panel">')
            parts += [
                f'<div class="figure"><b>{esc(n)}</b>{esc(what)}</div>'
                for n, what in _key_panel(table, lang)
            ]
            parts.append("</div>")
            continue
        if section == "highlights":
            if highlights:
                parts.append(f"<h2>{esc(text('highlights', lang))}</h2>")
                for case in highlights:
                    head, lines = _highlight_lines(case, lang)
                    parts.append(f"<h3>{esc(head)}</h3><ul>")
                    parts += [f"<li>{esc(line)}</li>" for line in lines]
                    parts.append("</ul>")
            continue
        parts.append(f"<h2>{esc(text(_HEADINGS[section], lang))}</h2>")
        parts += [charts.svg(fig) for fig in _charts_of(section, table, lang)]
        if section == "category_mix" and table["other_units"]:
            parts.append(_html_table(*_rows(table, "other_units", lang)))
        if section == "not_counted" and not table["not_counted"]:
            parts.append(f"<p>{esc(text('not_counted_none', lang))}</p>")
        elif section in _TABLED:
            parts.append(_html_table(*_rows(table, section, lang)))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _font(name: str) -> str:
    import matplotlib  # noqa: PLC0415 - the font it ships

    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name)


def to_pdf(
    table: Mapping[str, Any],
    *,
    lang: str = "en",
    sections: Sequence[str] = ALL_SECTIONS,
    kind: str | None = None,
    highlights: Sequence[Mapping[str, Any]] = (),
) -> bytes:
    """The same report as PDF (fpdf2): headings, key figures, charts as PNG, tables."""
    from fpdf import FPDF  # noqa: PLC0415 - only when a PDF is asked for

    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", fname=_font("DejaVuSans.ttf"))
    pdf.add_font("DejaVu", style="B", fname=_font("DejaVuSans-Bold.ttf"))
    pdf.set_font("DejaVu", size=10)
    rtl = direction(lang) == "rtl"
    if rtl:  # joined Arabic letters, right to left: HarfBuzz (uharfbuzz) shapes the runs
        pdf.set_text_shaping(use_shaping_engine=True, direction="rtl", script="arab", language="ar")
    align = "R" if rtl else "L"
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    width = pdf.epw

    def heading(words: str, size: int = 14) -> None:
        pdf.set_font("DejaVu", size=size)
        pdf.multi_cell(width, size * 0.6, words, align=align, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=9)
        pdf.ln(1)

    def grid(head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        if not rows:
            return
        with pdf.table(
            first_row_as_headings=any(head), text_align="RIGHT" if rtl else "LEFT", line_height=4.5
        ) as out:
            for row in ([head] if any(head) else []) + [list(r) for r in rows]:
                line = out.row()
                row = row[::-1] if rtl else row  # the first column on the right
                for cell in row:
                    line.cell(str(cell))
        pdf.ln(2)

    heading(_title(kind, lang), 18)
    heading(_period(table, lang), 10)
    heading(f"{text('computed', lang)}. {text('non_nominal', lang)}", 8)
    for section in sections:
        if section == "key_figures":
            heading(text("key_figures", lang))
            grid([], [[n, what] for n, what in _key_panel(table, lang)])
            continue
        if section == "highlights":
            if highlights:
                heading(text("highlights", lang))
                for case in highlights:
                    head, lines = _highlight_lines(case, lang)
                    heading(head, 10)
                    for line in lines:
                        pdf.multi_cell(
                            width, 4.5, "• " + line, align=align, new_x="LMARGIN", new_y="NEXT"
                        )
            continue
        heading(text(_HEADINGS[section], lang))
        for fig in _charts_of(section, table, lang):
            pdf.image(io.BytesIO(charts.png(fig)), x=pdf.l_margin, w=width * 0.8)
        if section == "category_mix" and table["other_units"]:
            grid(*_rows(table, "other_units", lang))
        if section == "not_counted" and not table["not_counted"]:
            pdf.multi_cell(
                width, 5, text("not_counted_none", lang), align=align, new_x="LMARGIN", new_y="NEXT"
            )
        elif section in _TABLED:
            grid(*_rows(table, section, lang))
    return bytes(pdf.output())
