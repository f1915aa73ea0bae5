"""Export decrypted seizure cases and pre-notifications as CSV or JSON.

A record is ``{"meta": {...}, "data": {...}}``: `meta` holds what the server and the envelope
say (seq, sender, sent time, status, template id and version), `data` the decrypted fields.
Case CSV has one row per item with the same columns the CSV import reads (plus ``meta_*``
columns it ignores), so an export can be corrected and imported again. Pre-notification CSV has
one row per lot, nested fields flattened to dotted column names. The export writes only what
this device could decrypt; handling codes travel in every row so recipients can honour them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from cordon_client.cases.csvimport import COLUMNS

META_COLUMNS = ("seq", "sender", "sent_at", "status", "template", "template_version")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ";".join(_cell(v) for v in value)
    return str(value)


def _get(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = data
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _meta(record: Mapping[str, Any]) -> dict[str, str]:
    meta = record.get("meta", {})
    return {f"meta_{k}": _cell(meta.get(k)) for k in META_COLUMNS}


def case_rows(records: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """One flat row per item of every report of every case."""
    rows: list[dict[str, str]] = []
    for record in records:
        case = record.get("data", {})
        for report in case.get("reports", []):
            for item in report.get("items", []):
                levels = {"case": case, "report": report, "item": item}
                row = _meta(record)
                for column, (level, path, _) in COLUMNS.items():
                    row[column] = _cell(_get(levels[level], path))
                rows.append(row)
    return rows


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, sub in value.items():
        name = prefix + key
        if isinstance(sub, Mapping):
            out.update(_flatten(sub, name + "."))
        else:
            out[name] = _cell(sub)
    return out


def prenotification_rows(records: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """One flat row per lot of every pre-notification."""
    rows: list[dict[str, str]] = []
    for record in records:
        data = dict(record.get("data", {}))
        lots = data.pop("lots", None) or [{}]
        base = {**_meta(record), **_flatten(data)}
        rows.extend({**base, **_flatten(lot, "lot.")} for lot in lots)
    return rows


def write_csv(rows: list[dict[str, str]], out: TextIO) -> None:
    """Write rows with the union of their columns, in first-seen order."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    writer = csv.DictWriter(out, fieldnames=list(columns), restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def export_cases_csv(records: Iterable[Mapping[str, Any]], out: TextIO) -> int:
    """Write cases as CSV (one row per item); returns the number of rows."""
    rows = case_rows(records)
    if not rows:
        rows_header = {f"meta_{k}": "" for k in META_COLUMNS} | dict.fromkeys(COLUMNS, "")
        csv.DictWriter(out, fieldnames=list(rows_header), lineterminator="\n").writeheader()
        return 0
    write_csv(rows, out)
    return len(rows)


def export_prenotifications_csv(records: Iterable[Mapping[str, Any]], out: TextIO) -> int:
    """Write pre-notifications as CSV (one row per lot); returns the number of rows."""
    rows = prenotification_rows(records)
    write_csv(rows, out)
    return len(rows)


def export_json(records: Iterable[Mapping[str, Any]], out: TextIO) -> int:
    """Write records as a JSON array of ``{meta, data}``; returns how many."""
    items = [{"meta": dict(r.get("meta", {})), "data": r.get("data", {})} for r in records]
    json.dump(items, out, ensure_ascii=False, indent=2, default=str)
    out.write("\n")
    return len(items)
