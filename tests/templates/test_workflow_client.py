"""The client's workflow helpers: allowed moves, filters after decryption, discrepancy → case."""

from datetime import UTC, date, datetime

import pytest
from cordon_client.records.workflow import (
    allowed_moves,
    discrepancy_to_case,
    filter_prenotifications,
)
from cordon_client.templates.registry import TemplateRegistry

from tests.templates import samples

NOW = datetime(2021, 6, 2, tzinfo=UTC)


def _record(status: str, eta: str, destination: str = "GH") -> dict:
    data = samples.prenotification()
    data["transport"]["eta"] = eta
    data["destination_country"] = destination
    return {"meta": {"status": status}, "data": data}


def test_allowed_moves_per_capacity():
    """The UI offers each party only the moves the server will accept."""
    assert allowed_moves("sent", ["destination"]) == ["acknowledged"]
    assert allowed_moves("sent", ["sender"]) == ["amended", "cancelled"]
    assert allowed_moves("cleared", ["coordinator"]) == ["closed"]
    assert allowed_moves("closed", ["sender", "destination", "coordinator"]) == []


def test_filters_on_decrypted_fields():
    """Status, ETA window, country and overdue (not acknowledged by ETA) filter client-side."""
    late = _record("sent", "2021-06-01T10:00:00Z")
    acked = _record("acknowledged", "2021-06-01T10:00:00Z", destination="KE")
    later = _record("amended", "2021-06-05T10:00:00Z")
    records = [late, acked, later]
    assert filter_prenotifications(records, overdue=True, now=NOW) == [late]
    assert filter_prenotifications(records, overdue=False, now=NOW) == [acked, later]
    assert filter_prenotifications(records, status=["amended"]) == [later]
    assert filter_prenotifications(records, country="ke") == [acked]
    assert filter_prenotifications(records, country="NL") == records
    window = filter_prenotifications(
        records, eta_from=datetime(2021, 6, 3, tzinfo=UTC), eta_to=datetime(2021, 6, 6, tzinfo=UTC)
    )
    assert window == [later]


def test_discrepancy_becomes_a_prefilled_case_in_one_step():
    """Route, transport and lots carry over into a case that fits the simplified form."""
    case = discrepancy_to_case(
        samples.prenotification(),
        reporting_country="GH",
        kind="suspected_falsification",
        seizure_date=date(2021, 6, 1),
        lots=["FF1235"],
    )
    template = TemplateRegistry().get("seizure-case", 1)
    assert template.errors(case, "simplified") == []
    assert {e.path for e in template.errors(case, "full")} == {"outcome", "reports[0].detection"}
    report = case["reports"][0]
    assert report["items"][0]["batch"] == "FF1235" and report["items"][0]["unit"] == "DOS"
    assert report["transport"]["document_number"] == "082-11111111"
    assert report["ipr"] == {"infringement": "substandard_falsified"}
    with pytest.raises(ValueError, match="kind"):
        discrepancy_to_case(samples.prenotification(), reporting_country="GH", kind="smell")
