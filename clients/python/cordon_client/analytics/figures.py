"""The operation's figures as a pure function of the decrypted, verified archive.

`analyse(items, params)` folds a group's archived items (`records.Item`) into the table that
docs/ANALYTICS.md defines field by field; it reads no clock, file or network (the period, the
phases and "now" are parameters), so the same archive always gives the same table and a port
in another language can be checked against the shared fixture in tests/fixtures/analytics/.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from cordon_client.records.view import (
    CASE,
    CASE_AMENDMENT,
    PN,
    PN_AMENDMENT,
    PN_DISCREPANCY,
    STATUS_EVENT,
    CaseView,
    Item,
    PrenotificationView,
    build_cases,
    build_prenotifications,
)
from cordon_client.records.workflow import DISCREPANCY_KINDS, is_overdue
from cordon_client.templates.registry import vocabularies

PIECE_UNITS = frozenset({"PCE", "DOS"})
FIGURE_OF_CATEGORY: Mapping[str, str] = {
    "medicines": "medicines",
    "medical_devices": "medical_devices",
    "ppe": "medical_devices",
    "test_kits": "medical_devices",
    "vaccines": "vaccine_doses",
    "other": "other",
}
PIECE_FIGURES = ("medicines", "medical_devices", "vaccine_doses", "other")
ECOMMERCE_MODES = frozenset({"postal", "express_courier"})
ECOMMERCE_PLACES = frozenset({"postal_centre", "express_hub"})
NO_REGION, NO_PHASE = "?", "-"
TOP_ROUTES = 10
REASON_MAX = 200
WHAT_OF_TYPE: Mapping[str, str] = {
    CASE: "case",
    CASE_AMENDMENT: "case_amendment",
    PN: "prenotification",
    PN_AMENDMENT: "prenotification_amendment",
    PN_DISCREPANCY: "discrepancy",
    STATUS_EVENT: "status_event",
}
WHAT_OF_KIND: Mapping[str, str] = {
    "alert": "alert",
    "prenotification": "prenotification",
    "prenotification_event": "status_event",
}


@dataclass(frozen=True)
class Phase:
    """A named phase of the operation, dates inclusive."""

    name: str
    start: date
    end: date


@dataclass(frozen=True)
class Params:
    """What to compute over: the period (inclusive, open ends allowed), phases, and now."""

    start: date | None = None
    end: date | None = None
    phases: Sequence[Phase] = field(default_factory=tuple)
    now: datetime = field(default_factory=lambda: datetime(1970, 1, 1, tzinfo=UTC))
    phase: str | None = None

    def holds(self, day: date) -> bool:
        """Whether `day` is in the period."""
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def to_json(self) -> dict[str, Any]:
        """The parameters as the fixture writes them."""
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "phase": self.phase,
            "phases": [
                {"name": p.name, "from": p.start.isoformat(), "to": p.end.isoformat()}
                for p in self.phases
            ],
            "now": self.now.isoformat().replace("+00:00", "Z"),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Params:
        """Inverse of `to_json`; `phase` (a name) sets the period to that phase's dates."""
        phases = tuple(
            Phase(str(p["name"]), date.fromisoformat(p["from"]), date.fromisoformat(p["to"]))
            for p in raw.get("phases") or []
        )
        start = date.fromisoformat(raw["from"]) if raw.get("from") else None
        end = date.fromisoformat(raw["to"]) if raw.get("to") else None
        name = raw.get("phase")
        if name is not None:
            chosen = next((p for p in phases if p.name == name), None)
            if chosen is None:
                raise ValueError(f"phase {name!r} is not one of the phases given")
            start, end = chosen.start, chosen.end
        now = _utc(str(raw["now"])) if raw.get("now") else datetime(1970, 1, 1, tzinfo=UTC)
        return cls(start, end, phases, now, name)


@cache
def regions() -> Mapping[str, str]:
    """ISO 3166-1 alpha-2 -> WCO region code (package data regions.json)."""
    text = resources.files("cordon_client").joinpath("analytics", "regions.json").read_text()
    data: dict[str, str] = json.loads(text)["regions"]
    return data


def region_of(country: str | None) -> str:
    """The WCO region of a country, ``?`` when unknown."""
    return regions().get(country or "", NO_REGION)


def _codes(vocabulary: str) -> list[str]:
    return [str(e["code"]) for e in vocabularies()[vocabulary]]


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _num(value: Decimal) -> int | float:
    """An exact sum as JSON: an integer when whole."""
    return int(value) if value == value.to_integral_value() else float(value)


def _pieces_json(pieces: Mapping[str, Decimal]) -> dict[str, int | float]:
    out = {name: _num(pieces.get(name, Decimal(0))) for name in PIECE_FIGURES}
    out["total"] = _num(sum((pieces.get(n, Decimal(0)) for n in PIECE_FIGURES), Decimal(0)))
    return out


@dataclass
class _Case:
    """A counted case with what every figure needs, computed once."""

    view: CaseView
    day: date
    country: str
    reports: list[dict[str, Any]]
    pieces: dict[str, Decimal]
    other_units: dict[tuple[str, str], Decimal]

    @property
    def pieces_total(self) -> Decimal:
        return sum(self.pieces.values(), Decimal(0))


def _case(view: CaseView) -> _Case | None:
    data = view.data
    reports = [r for r in data.get("reports", []) if isinstance(r, dict)]
    days = [date.fromisoformat(r["seizure_date"]) for r in reports if r.get("seizure_date")]
    if not days:
        return None
    pieces: dict[str, Decimal] = defaultdict(Decimal)
    other: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for report in reports:
        for item in report.get("items", []):
            quantity = Decimal(str(item.get("quantity", 0)))
            category, unit = str(item.get("category")), str(item.get("unit"))
            if unit in PIECE_UNITS:
                pieces[FIGURE_OF_CATEGORY.get(category, "other")] += quantity
            else:
                other[(unit, category)] += quantity
    return _Case(view, min(days), str(data.get("reporting_country")), reports, pieces, other)


def _sum_pieces(cases: Iterable[_Case]) -> dict[str, Decimal]:
    total: dict[str, Decimal] = defaultdict(Decimal)
    for case in cases:
        for name, value in case.pieces.items():
            total[name] += value
    return total


def _phase_of(day: date, phases: Sequence[Phase]) -> str:
    return next((p.name for p in phases if p.start <= day <= p.end), NO_PHASE)


def _week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _count_reports(cases: Iterable[_Case], key: str, sub: str | None = None) -> Counter[str]:
    out: Counter[str] = Counter()
    for case in cases:
        for report in case.reports:
            holder = report.get(sub, {}) if sub else report
            value = holder.get(key) if isinstance(holder, dict) else None
            out[str(value) if value is not None else "not_given"] += 1
    return out


def _in_order(
    counts: Counter[str], codes: Sequence[str], *, extra: str | None = None
) -> dict[str, int]:
    out = {code: counts.get(code, 0) for code in codes}
    if extra is not None:
        out[extra] = counts.get(extra, 0)
    return out


def _group_rows(cases: Sequence[_Case]) -> dict[str, Any]:
    return {
        "cases": len(cases),
        "seizure_reports": sum(len(c.reports) for c in cases),
    }


def _key_figures(cases: Sequence[_Case]) -> dict[str, Any]:
    return {
        "members_reporting": len({c.country for c in cases}),
        **_group_rows(cases),
        "pieces": _pieces_json(_sum_pieces(cases)),
    }


def _by_region(cases: Sequence[_Case]) -> list[dict[str, Any]]:
    grouped: dict[str, list[_Case]] = defaultdict(list)
    for case in cases:
        grouped[region_of(case.country)].append(case)
    order = _codes("regions") + ([NO_REGION] if NO_REGION in grouped else [])
    return [{"region": r, **_key_figures(grouped.get(r, []))} for r in order]


def _by_country(cases: Sequence[_Case]) -> list[dict[str, Any]]:
    grouped: dict[str, list[_Case]] = defaultdict(list)
    for case in cases:
        grouped[case.country].append(case)
    rows = [
        {
            "country": country,
            "region": region_of(country),
            **_group_rows(members),
            "pieces": _pieces_json(_sum_pieces(members)),
        }
        for country, members in grouped.items()
    ]
    return sorted(rows, key=lambda r: (-r["cases"], r["country"]))


def _rows_by(
    label: str, grouped: Mapping[str, list[_Case]], order: Iterable[str]
) -> list[dict[str, Any]]:
    return [
        {
            label: name,
            **_group_rows(grouped.get(name, [])),
            "pieces_total": _num(sum((c.pieces_total for c in grouped.get(name, [])), Decimal(0))),
        }
        for name in order
    ]


def _by_phase(cases: Sequence[_Case], phases: Sequence[Phase]) -> list[dict[str, Any]]:
    grouped: dict[str, list[_Case]] = defaultdict(list)
    for case in cases:
        grouped[_phase_of(case.day, phases)].append(case)
    order = [p.name for p in phases] + ([NO_PHASE] if NO_PHASE in grouped else [])
    return _rows_by("phase", grouped, order)


def _by_week(cases: Sequence[_Case]) -> list[dict[str, Any]]:
    grouped: dict[str, list[_Case]] = defaultdict(list)
    for case in cases:
        grouped[_week_of(case.day)].append(case)
    return _rows_by("week", grouped, sorted(grouped))


def _by_category(cases: Sequence[_Case]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for case in cases:
        for report in case.reports:
            counts.update({str(i.get("category")) for i in report.get("items", [])})
    return _in_order(counts, _codes("goods_categories"))


def _channels(cases: Sequence[_Case]) -> dict[str, int]:
    ftz = ecommerce = 0
    for case in cases:
        for report in case.reports:
            place = report.get("place_type")
            mode = (report.get("transport") or {}).get("mode")
            ftz += place == "free_trade_zone"
            ecommerce += mode in ECOMMERCE_MODES or place in ECOMMERCE_PLACES
    return {"free_trade_zone": ftz, "ecommerce_postal": ecommerce}


def _concealment(cases: Sequence[_Case]) -> dict[str, int]:
    given = sum(
        1 for c in cases for r in c.reports if (r.get("detection") or {}).get("concealment")
    )
    return {"reported": given, "not_reported": sum(len(c.reports) for c in cases) - given}


def _route(report: Mapping[str, Any]) -> tuple[str, str]:
    return str(report.get("departure_country")), str(report.get("destination_country"))


def _top_routes(cases: Sequence[_Case]) -> list[dict[str, Any]]:
    reports: Counter[tuple[str, str]] = Counter()
    holders: dict[tuple[str, str], set[int]] = defaultdict(set)
    for case in cases:
        for report in case.reports:
            route = _route(report)
            reports[route] += 1
            holders[route].add(case.view.seq)
    ranked = sorted(reports, key=lambda r: (-reports[r], r[0], r[1]))[:TOP_ROUTES]
    return [
        {
            "departure": dep,
            "destination": dest,
            "seizure_reports": reports[(dep, dest)],
            "cases": len(holders[(dep, dest)]),
        }
        for dep, dest in ranked
    ]


def _first_seen(every: Sequence[_Case], params: Params) -> dict[str, list[dict[str, Any]]]:
    def keys(case: _Case) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
        products = {
            (str(i.get("category")), str(i.get("hs_code")))
            for r in case.reports
            for i in r.get("items", [])
        }
        return products, {_route(r) for r in case.reports}

    first: list[dict[tuple[str, str], date]] = [{}, {}]
    counted: list[Counter[tuple[str, str]]] = [Counter(), Counter()]
    for case in every:
        for index, found in enumerate(keys(case)):
            for key in found:
                if key not in first[index] or case.day < first[index][key]:
                    first[index][key] = case.day
                if params.holds(case.day):
                    counted[index][key] += 1
    names = (("category", "hs_code"), ("departure", "destination"))
    out = []
    for index, (a, b) in enumerate(names):
        seen = [(day, key) for key, day in first[index].items() if params.holds(day)]
        out.append(
            [
                {a: key[0], b: key[1], "first_date": day.isoformat(), "cases": counted[index][key]}
                for day, key in sorted(seen)
            ]
        )
    return {"product_types": out[0], "routes": out[1]}


# -- pre-notifications -------------------------------------------------------------------------


def _sent_day(view: PrenotificationView) -> date:
    return _utc(view.original.sent_at or view.original.received_at).date()


def _first_event_ts(view: PrenotificationView, status: str) -> int | None:
    for event in view.events:
        if (event.event or {}).get("to") == status:
            return int((event.event or {})["ts"])
    return None


def _eta_ms(view: PrenotificationView) -> int | None:
    eta = (view.data.get("transport") or {}).get("eta")
    return int(_utc(eta).timestamp() * 1000) if eta else None


def _prenotifications(views: Sequence[PrenotificationView], params: Params) -> dict[str, Any]:
    period = [v for v in views if params.holds(_sent_day(v))]
    live = [v for v in period if v.status != "cancelled"]
    hours: list[float] = []
    before_eta = acknowledged = arrived = 0
    kinds: Counter[str] = Counter()
    with_discrepancy = 0
    for view in live:
        ack = _first_event_ts(view, "acknowledged")
        if ack is not None:
            acknowledged += 1
            sent = _utc(view.original.sent_at or view.original.received_at)
            hours.append((ack / 1000 - sent.timestamp()) / 3600)
            eta = _eta_ms(view)
            before_eta += eta is not None and ack < eta
        arrived += _first_event_ts(view, "arrived") is not None
        found = [str((d.data or {}).get("kind")) for d in view.discrepancies]
        kinds.update(found)
        with_discrepancy += bool(found)
    ordered = sorted(hours)
    return {
        "sent": len(period),
        "cancelled": len(period) - len(live),
        "doses": sum(int((v.data.get("product") or {}).get("doses", 0)) for v in live),
        "acknowledged": acknowledged,
        "acknowledged_before_eta": before_eta,
        "share_acknowledged_before_eta": round(before_eta / len(live), 4) if live else None,
        "hours_to_first_ack": {
            "median": round(statistics.median(ordered), 2) if ordered else None,
            "p90": round(ordered[math.ceil(0.9 * len(ordered)) - 1], 2) if ordered else None,
            "max": round(ordered[-1], 2) if ordered else None,
        },
        "arrived": arrived,
        "discrepancies": {
            **{k: kinds.get(k, 0) for k in DISCREPANCY_KINDS},
            "prenotifications_with_discrepancy": with_discrepancy,
        },
        "overdue": sum(1 for v in live if is_overdue(v.status, v.data, params.now)),
    }


# -- not counted ---------------------------------------------------------------------------


def _what(item: Item) -> str | None:
    if item.type in WHAT_OF_TYPE:
        return WHAT_OF_TYPE[item.type]
    if not item.valid:
        return WHAT_OF_KIND.get(item.kind)
    return None


def _not_counted(
    items: Sequence[Item],
    cases: Sequence[CaseView],
    views: Sequence[PrenotificationView],
    undated: Iterable[CaseView],
) -> list[dict[str, Any]]:
    counted: set[int] = set()
    folded: dict[int, str] = {}
    for case in cases:
        counted |= {i.seq for i in case.versions}
        folded |= {i.seq: i.error or "" for i in case.refused}
    for view in views:
        counted |= {i.seq for i in (*view.versions, *view.discrepancies, *view.events)}
        folded |= {i.seq: i.error or "" for i in view.refused}
    for case in undated:
        counted.discard(case.seq)
        folded[case.seq] = "reports: no seizure date"
    reasons: Counter[tuple[str, str]] = Counter()
    for item in items:
        what = _what(item)
        if what is None or item.seq in counted:
            continue
        if not item.valid:
            reason = item.error or "not verified"
        else:
            reason = folded.get(item.seq) or "parent not counted"
        reasons[(what, reason[:REASON_MAX])] += 1
    ordered = sorted(reasons.items())
    return [{"what": what, "reason": reason, "count": n} for (what, reason), n in ordered]


def analyse(items: Iterable[Item], params: Params) -> dict[str, Any]:
    """The operation's table (docs/ANALYTICS.md) over a group's archived items."""
    archive = sorted(items, key=lambda i: i.seq)
    views = build_cases(archive)
    every: list[_Case] = []
    undated: list[CaseView] = []
    for view in views:
        case = _case(view)
        (every.append(case) if case is not None else undated.append(view))
    chosen = [c for c in every if params.holds(c.day)]
    prenotifications = build_prenotifications(archive)
    other_units: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for case in chosen:
        for key, value in case.other_units.items():
            other_units[key] += value
    return {
        "period": {
            "from": params.start.isoformat() if params.start else None,
            "to": params.end.isoformat() if params.end else None,
            "phase": params.phase,
        },
        "key_figures": _key_figures(chosen),
        "other_units": [
            {"unit": unit, "category": category, "quantity": _num(value)}
            for (unit, category), value in sorted(other_units.items())
        ],
        "by_region": _by_region(chosen),
        "by_country": _by_country(chosen),
        "by_phase": _by_phase(chosen, params.phases),
        "by_week": _by_week(chosen),
        "by_transport_mode": _in_order(
            _count_reports(chosen, "mode", "transport"), _codes("transport_modes")
        ),
        "by_detection_method": _in_order(
            _count_reports(chosen, "method", "detection"),
            _codes("detection_methods"),
            extra="not_given",
        ),
        "by_place_type": _in_order(_count_reports(chosen, "place_type"), _codes("place_types")),
        "by_direction": _in_order(_count_reports(chosen, "direction"), _codes("directions")),
        "by_category": _by_category(chosen),
        "concealment": _concealment(chosen),
        "channels": _channels(chosen),
        "top_routes": _top_routes(chosen),
        "first_seen": _first_seen(every, params),
        "prenotifications": _prenotifications(prenotifications, params),
        "not_counted": _not_counted(archive, views, prenotifications, undated),
    }


def highlights(items: Iterable[Item], seqs: Iterable[int]) -> list[dict[str, Any]]:
    """The coordinator's chosen cases, without names or narratives: country, date, and per
    report the route and goods (category, quantity, unit, description). Unknown or
    not-counted seqs raise ValueError, so a highlight never shows an unverified item."""
    wanted = list(dict.fromkeys(seqs))
    counted = {view.seq: _case(view) for view in build_cases(sorted(items, key=lambda i: i.seq))}
    out = []
    for seq in wanted:
        case = counted.get(seq)
        if case is None:
            raise ValueError(f"case #{seq} is not a counted case on this device")
        out.append(
            {
                "seq": seq,
                "country": case.country,
                "date": case.day.isoformat(),
                "reports": [
                    {
                        "departure": report.get("departure_country"),
                        "destination": report.get("destination_country"),
                        "items": [
                            {
                                k: i[k]
                                for k in ("category", "quantity", "unit", "description")
                                if k in i
                            }
                            for i in report.get("items", [])
                        ],
                    }
                    for report in case.reports
                ],
            }
        )
    return out
