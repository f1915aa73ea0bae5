"""`analyse` against the shared fixture (tests/fixtures/analytics/), which a port of the
computation to another language must pass with the same expected table.

The fixture's archive holds what a sync can leave: an amended case, an amendment by someone
else, one of a case that does not exist, a case that failed validation, an alert that did
not verify, pre-notifications acknowledged before and after their ETA, cancelled, overdue,
with a forged status event and a discrepancy finding.
"""

import json
from pathlib import Path

import pytest
from cordon_client.analytics.figures import Params, analyse, highlights, region_of
from cordon_client.records.view import Item

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "analytics"


def _load() -> tuple[list[Item], dict]:
    raw = json.loads((FIXTURE / "input.json").read_text("utf-8"))
    return [Item.from_json(i) for i in raw["items"]], raw["params"]


def test_the_table_is_the_expected_one() -> None:
    """The whole table, key for key, as tests/fixtures/analytics/expected.json has it."""
    items, params = _load()
    expected = json.loads((FIXTURE / "expected.json").read_text("utf-8"))
    assert analyse(items, Params.from_json(params)) == expected


def test_key_figures_by_hand() -> None:
    """The headline figures recounted by hand from the fixture, independent of expected.json:
    the sender's amendment replaces case 3; the other amendment and the refused items count
    nowhere; case 6 falls after the period; boxes and kilograms are not pieces."""
    items, params = _load()
    table = analyse(items, Params.from_json(params))
    assert table["key_figures"] == {
        "members_reporting": 5,  # BE, FR, NG, CN, US
        "cases": 6,  # 1, 2, 3, 4, 5, 7
        "seizure_reports": 8,  # 2 + 1 + 2 (amended) + 1 + 1 + 1
        "pieces": {
            "medicines": 1200 + 900 + 150 + 100,
            "medical_devices": 5000 + 10000 + 40,
            "vaccine_doses": 300,
            "other": 700,
            "total": 2350 + 15040 + 300 + 700,
        },
    }
    assert sum(row["count"] for row in table["not_counted"]) == 6
    pre = table["prenotifications"]
    assert (pre["sent"], pre["cancelled"], pre["acknowledged"], pre["overdue"]) == (4, 1, 2, 1)


def test_no_narrative_reaches_the_table() -> None:
    """Remarks, descriptions and concealment texts stay out of the table (non-nominal)."""
    items, params = _load()
    text = json.dumps(analyse(items, Params.from_json(params)))
    assert "NARRATIVE-MUST-NOT-LEAK" not in text and "vehicle compartment" not in text


def test_a_phase_sets_the_period() -> None:
    """`phase` takes that phase's dates; first-seen items are judged against the whole group."""
    items, params = _load()
    table = analyse(items, Params.from_json({**params, "phase": "2"}))
    assert table["period"] == {"from": "2021-06-01", "to": "2021-06-30", "phase": "2"}
    assert table["key_figures"]["cases"] == 3
    assert "IN" not in {r["departure"] for r in table["first_seen"]["routes"]}
    with pytest.raises(ValueError, match="phase"):
        Params.from_json({**params, "phase": "9"})


def test_regions() -> None:
    """Countries map to the six WCO regions; an unknown one to `?`."""
    assert [region_of(c) for c in ("BE", "NG", "KE", "CN", "US", "EG", "AQ")] == [
        "EUR",
        "WCA",
        "ESA",
        "A/P",
        "AMS",
        "MENA",
        "?",
    ]


def test_highlights_show_only_counted_cases_without_remarks() -> None:
    """A highlight carries route and goods (with descriptions) but no remarks; a refused case
    or an unknown number is refused rather than shown."""
    items, _ = _load()
    (case,) = highlights(items, [3])
    assert case["country"] == "NG" and len(case["reports"]) == 2  # the amended version
    assert "NARRATIVE-MUST-NOT-LEAK" not in str(case)
    for seq in (8, 99):
        with pytest.raises(ValueError, match=f"#{seq}"):
            highlights(items, [seq])
