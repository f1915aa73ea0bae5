"""Bulk import of seizure reports from CSV: one row per item, grouped into reports and cases.

Rows sharing ``case_ref`` form one case; inside it, rows sharing ``report_ref`` (default
``1``) form one seizure report; each row is one item. Case columns must agree on every row of
a case, report columns on every row of a report. Lists (``transit_countries``) are separated
by ``;``. Columns named ``meta_*`` (written by the export) are ignored, so an export can be
edited and imported again.

Atomicity, documented: by default (``all_or_nothing=False``) every valid case is imported and
every bad row is reported; a case with any bad row is skipped *as a whole*, so no case is ever
imported with rows missing. With ``all_or_nothing=True`` one bad row means nothing is imported.
Either way each error names the row number (the header is row 1), the column and the reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cordon_client.templates.registry import FieldError, Template

Convert = Callable[[str], Any]


def _number(text: str) -> float | int:
    value = float(text.replace(",", "."))
    return int(value) if value.is_integer() else value


def _list(text: str) -> list[str]:
    return [part.strip().upper() for part in text.split(";") if part.strip()]


def _upper(text: str) -> str:
    return text.upper()


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("yes", "true", "1", "y"):
        return True
    if lowered in ("no", "false", "0", "n"):
        return False
    raise ValueError("expected yes or no")


# column -> (level, path inside that level, converter)
COLUMNS: Mapping[str, tuple[str, tuple[str, ...], Convert]] = {
    "case_ref": ("case", ("case_id",), str),
    "operation": ("case", ("operation",), str),
    "reporting_country": ("case", ("reporting_country",), _upper),
    "handling_code": ("case", ("handling_code",), _upper),
    "source_reliability": ("case", ("source_reliability",), _upper),
    "information_accuracy": ("case", ("information_accuracy",), int),
    "outcome": ("case", ("outcome", "status"), str),
    "investigation_opened": ("case", ("outcome", "investigation_opened"), _bool),
    "arrests": ("case", ("outcome", "arrests"), int),
    "remarks": ("case", ("remarks",), str),
    "report_ref": ("report", ("report_id",), str),
    "seizure_date": ("report", ("seizure_date",), str),
    "place_type": ("report", ("place_type",), str),
    "office": ("report", ("office",), str),
    "locode": ("report", ("locode",), _upper),
    "direction": ("report", ("direction",), str),
    "origin_country": ("report", ("origin_country",), _upper),
    "departure_country": ("report", ("departure_country",), _upper),
    "transit_countries": ("report", ("transit_countries",), _list),
    "destination_country": ("report", ("destination_country",), _upper),
    "transport_mode": ("report", ("transport", "mode"), str),
    "flight_voyage": ("report", ("transport", "flight_voyage"), str),
    "container": ("report", ("transport", "container"), str),
    "document_type": ("report", ("transport", "document_type"), str),
    "document_number": ("report", ("transport", "document_number"), str),
    "tracking_number": ("report", ("transport", "tracking_number"), str),
    "detection_method": ("report", ("detection", "method"), str),
    "concealment": ("report", ("detection", "concealment"), str),
    "infringement": ("report", ("ipr", "infringement"), str),
    "right_holder": ("report", ("ipr", "right_holder"), str),
    "category": ("item", ("category",), str),
    "description": ("item", ("description",), str),
    "hs_code": ("item", ("hs_code",), str),
    "brand": ("item", ("brand",), str),
    "inn": ("item", ("inn",), str),
    "dosage_form": ("item", ("dosage_form",), str),
    "quantity": ("item", ("quantity",), _number),
    "unit": ("item", ("unit",), _upper),
    "value": ("item", ("value",), _number),
    "currency": ("item", ("currency",), _upper),
    "batch": ("item", ("batch",), str),
    "expiry_date": ("item", ("expiry_date",), str),
}
REQUIRED_COLUMNS = ("case_ref",)
_PREFIX = {"case": (), "report": ("reports", 0), "item": ("reports", 0, "items", 0)}


@dataclass(frozen=True)
class RowError:
    """One problem with one CSV row (row 1 is the header)."""

    row: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}" + (f", {self.column}" if self.column else "") + f": {self.reason}"


@dataclass
class ImportReport:
    """What an import produced: the cases to send, and every row that was refused."""

    cases: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    skipped_cases: list[str] = field(default_factory=list)
    rows_read: int = 0

    @property
    def ok(self) -> bool:
        """True when every row was imported."""
        return not self.errors


@dataclass
class _Row:
    number: int
    case_ref: str
    report_ref: str
    levels: dict[str, dict[str, Any]]


def _put(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


def _column_for(path: str) -> str | None:
    """The CSV column a template field path (from a one-row case) came from."""
    for column, (level, inner, _) in COLUMNS.items():
        full = _PREFIX[level] + inner
        dotted = ""
        for part in full:
            dotted += f"[{part}]" if isinstance(part, int) else (f".{part}" if dotted else part)
        if path == dotted:
            return column
    return None


def _parse_row(number: int, cells: Mapping[str, str | None]) -> tuple[_Row | None, list[RowError]]:
    errors: list[RowError] = []
    levels: dict[str, dict[str, Any]] = {"case": {}, "report": {}, "item": {}}
    for column, (level, path, convert) in COLUMNS.items():
        text = (cells.get(column) or "").strip()
        if not text:
            continue
        try:
            _put(levels[level], path, convert(text))
        except ValueError as exc:
            reason = "not a number" if convert in (int, _number) else str(exc)
            errors.append(RowError(number, column, f"{text!r}: {reason}"))
    case_ref = (cells.get("case_ref") or "").strip()
    if not case_ref:
        errors.append(RowError(number, "case_ref", "is required (it groups rows into cases)"))
    if errors:
        return None, errors
    report_ref = levels["report"].setdefault("report_id", "1")
    return _Row(number, case_ref, str(report_ref), levels), []


def _one_row_case(row: _Row) -> dict[str, Any]:
    report = {**row.levels["report"], "items": [row.levels["item"]]}
    return {**row.levels["case"], "reports": [report]}


def _schema_errors(row: _Row, template: Template, form: str | None) -> list[RowError]:
    errors: list[FieldError] = template.errors(_one_row_case(row), form)
    out = []
    for error in errors:
        column = _column_for(error.path)
        where = column or error.path
        out.append(RowError(row.number, where, error.reason))
    return out


def _consistency(first: _Row, row: _Row, level: str) -> list[RowError]:
    """Case (or report) columns of a later row must repeat those of the first row."""
    if first.levels[level] == row.levels[level]:
        return []
    columns = [
        c
        for c, (lv, path, _) in COLUMNS.items()
        if lv == level and _get(first.levels[level], path) != _get(row.levels[level], path)
    ]
    return [
        RowError(row.number, c, f"differs from row {first.number} of the same {level}")
        for c in columns
    ]


def _get(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = data
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _assemble(rows: list[_Row]) -> dict[str, Any]:
    case = dict(rows[0].levels["case"])
    reports: dict[str, dict[str, Any]] = {}
    for row in rows:
        report = reports.setdefault(row.report_ref, {**row.levels["report"], "items": []})
        report["items"].append(row.levels["item"])
    case["reports"] = list(reports.values())
    return case


def import_cases(
    source: str | Iterable[str],
    template: Template,
    *,
    form: str | None = None,
    all_or_nothing: bool = False,
) -> ImportReport:
    """Read CSV text (or lines) into validated cases; see the module docstring for atomicity."""
    lines = io.StringIO(source) if isinstance(source, str) else source
    reader = csv.DictReader(lines)
    report = ImportReport()
    header = [h.strip() for h in reader.fieldnames or []]
    unknown = [h for h in header if h not in COLUMNS and not h.startswith("meta_")]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if unknown or missing:
        reason = (
            f"unknown columns: {', '.join(unknown)}"
            if unknown
            else f"missing columns: {', '.join(missing)}"
        )
        report.errors.append(RowError(1, None, reason))
        return report
    reader.fieldnames = header
    by_case: dict[str, list[_Row]] = {}
    bad_cases: set[str] = set()
    for number, cells in enumerate(reader, start=2):
        report.rows_read += 1
        if None in cells:
            report.errors.append(RowError(number, None, "more cells than columns"))
            bad_cases.add((cells.get("case_ref") or "").strip())
            continue
        row, errors = _parse_row(number, cells)
        if row is not None:
            errors = _schema_errors(row, template, form)
            group = by_case.setdefault(row.case_ref, [])
            if group:
                errors += _consistency(group[0], row, "case")
                same_report = next((r for r in group if r.report_ref == row.report_ref), None)
                if same_report is not None:
                    errors += _consistency(same_report, row, "report")
            group.append(row)
        if errors:
            report.errors.extend(errors)
            bad_cases.add(row.case_ref if row else (cells.get("case_ref") or "").strip())
    if all_or_nothing and report.errors:
        report.skipped_cases = sorted(c for c in by_case)
        return report
    for case_ref, rows in by_case.items():
        if case_ref in bad_cases:
            report.skipped_cases.append(case_ref)
            continue
        case = _assemble(rows)
        problems = template.errors(case, form)
        if problems:
            report.errors.extend(RowError(rows[0].number, p.path, p.reason) for p in problems)
            report.skipped_cases.append(case_ref)
            continue
        report.cases.append(case)
    return report
