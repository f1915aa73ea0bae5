"""Export of decrypted records as CSV and JSON."""

import csv
import io
import json

from cordon_client.cases.export import export_cases_csv, export_json, export_prenotifications_csv

from tests.templates import samples


def test_prenotifications_csv_has_one_row_per_lot():
    """Nested fields flatten to dotted columns; lots expand to rows; meta comes first."""
    out = io.StringIO()
    record = {"meta": {"seq": 7, "status": "acknowledged"}, "data": samples.prenotification()}
    assert export_prenotifications_csv([record], out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["lot.lot_number"] for r in rows] == ["FF1234", "FF1235"]
    assert rows[0]["meta_status"] == "acknowledged" and rows[0]["transit_countries"] == "NL"
    assert rows[0]["cold_chain.iata_handling_code"] == "FRO"
    assert rows[1]["transport.eta"] == "2021-06-01T15:30:00Z"
    assert next(iter(rows[0])) == "meta_seq"


def test_cases_csv_and_json():
    """Case CSV carries handling codes on every item row; JSON keeps meta and data."""
    records = [{"meta": {"seq": 3}, "data": samples.case(full=True)}]
    out = io.StringIO()
    assert export_cases_csv(records, out) == 1
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert (row["handling_code"], row["hs_code"], row["investigation_opened"]) == (
        "H1",
        "3004",
        "yes",
    )
    empty = io.StringIO()
    assert export_cases_csv([], empty) == 0 and empty.getvalue().startswith("meta_seq,")
    text = io.StringIO()
    assert export_json(records, text) == 1
    assert json.loads(text.getvalue()) == [{"meta": {"seq": 3}, "data": samples.case(full=True)}]
