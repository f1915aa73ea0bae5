"""Bulk CSV import of seizure reports: grouping, per-row errors, and the atomicity rules."""

import io

from cordon_client.cases.csvimport import RowError, import_cases
from cordon_client.cases.export import export_cases_csv
from cordon_client.templates.registry import TemplateRegistry

TEMPLATE = TemplateRegistry().get("seizure-case", 1)
HEADER = (
    "case_ref,reporting_country,handling_code,source_reliability,information_accuracy,"
    "report_ref,seizure_date,place_type,direction,departure_country,transit_countries,"
    "destination_country,transport_mode,category,hs_code,quantity,unit"
)
GOOD = [
    "C1,BE,H1,B,2,R1,2021-05-04,airport,import,IN,AE;NL,BE,air,medicines,3004,1200,PCE",
    "C1,BE,H1,B,2,R1,2021-05-04,airport,import,IN,AE;NL,BE,air,ppe,6307.90,5000,PCE",
    "C1,BE,H1,B,2,R2,2021-05-06,seaport,import,CN,,BE,sea,test_kits,3822,12.5,KGM",
    "C2,FR,H0,A,1,,2021-06-01,postal_centre,import,US,,FR,postal,medicines,3004,30,PCE",
]


def _csv(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def test_rows_become_cases_reports_and_items():
    """Rows group by case_ref, then report_ref; lists split on ';'; numbers are numbers."""
    report = import_cases(_csv(*GOOD), TEMPLATE, form="simplified")
    assert report.ok and report.rows_read == 4 and report.skipped_cases == []
    c1, c2 = report.cases
    assert [len(r["items"]) for r in c1["reports"]] == [2, 1]
    assert c1["reports"][0]["transit_countries"] == ["AE", "NL"]
    assert c1["reports"][1]["items"][0]["quantity"] == 12.5
    assert c1["information_accuracy"] == 2 and c2["reports"][0]["report_id"] == "1"


def test_bad_rows_are_reported_and_their_case_skipped():
    """Each bad row is named with its column and reason; only the cases it belongs to are
    skipped, whole, and the other cases are imported."""
    rows = [
        *GOOD[:2],
        "C1,BE,H1,B,2,R2,2021-05-06,seaport,import,CN,,BE,sea,test_kits,3822,lots,KGM",
        GOOD[3],
        "C3,BE,H7,B,2,R1,2021-13-01,airport,import,IN,,BE,air,medicines,30049,5,PCE",
        ",BE,H1,B,2,R1,2021-05-04,airport,import,IN,,BE,air,medicines,3004,5,PCE",
    ]
    report = import_cases(_csv(*rows), TEMPLATE, form="simplified")
    assert [c["case_id"] for c in report.cases] == ["C2"]
    assert report.skipped_cases == ["C1", "C3"]
    assert set(report.errors) == {
        RowError(4, "quantity", "'lots': not a number"),
        RowError(6, "handling_code", "'H7' is not an allowed code"),
        RowError(6, "seizure_date", "'2021-13-01' is not a valid date"),
        RowError(6, "hs_code", "'30049' is not an allowed code"),
        RowError(7, "case_ref", "is required (it groups rows into cases)"),
    }
    assert str(RowError(6, "hs_code", "bad")) == "row 6, hs_code: bad"


def test_all_or_nothing_imports_nothing_on_any_error():
    """With the flag, one broken row leaves the whole import empty, errors still listed."""
    rows = [*GOOD, "C9,BE,H1,B,2,R1,2021-05-04,airport,import,IN,,BE,air,medicines,3004,-1,PCE"]
    report = import_cases(_csv(*rows), TEMPLATE, form="simplified", all_or_nothing=True)
    assert report.cases == [] and not report.ok
    assert report.errors == [RowError(6, "quantity", "must be greater than 0")]


def test_rows_of_one_case_must_agree():
    """A row that changes a case-level (or report-level) column is refused, naming it."""
    rows = [GOOD[0], GOOD[1].replace("C1,BE,H1", "C1,BE,H2").replace(",IN,AE;NL,", ",PK,AE;NL,")]
    report = import_cases(_csv(*rows), TEMPLATE, form="simplified")
    assert report.cases == []
    assert set(report.errors) == {
        RowError(3, "handling_code", "differs from row 2 of the same case"),
        RowError(3, "departure_country", "differs from row 2 of the same report"),
    }


def test_broken_files():
    """Unknown or missing columns stop the import at the header; ragged rows are reported."""
    unknown = import_cases("case_ref,colour\nC1,red\n", TEMPLATE)
    assert unknown.errors == [RowError(1, None, "unknown columns: colour")]
    missing = import_cases("hs_code\n3004\n", TEMPLATE)
    assert missing.errors == [RowError(1, None, "missing columns: case_ref")]
    ragged = import_cases(_csv(GOOD[3], GOOD[0] + ",extra,cells"), TEMPLATE, form="simplified")
    assert ragged.errors == [RowError(3, None, "more cells than columns")]
    assert [c["case_id"] for c in ragged.cases] == ["C2"]


def test_export_then_import_round_trips():
    """A case exported to CSV imports back to the same case (meta columns are ignored)."""
    cases = import_cases(_csv(*GOOD), TEMPLATE, form="simplified").cases
    out = io.StringIO()
    records = [{"meta": {"seq": i, "status": "verified"}, "data": c} for i, c in enumerate(cases)]
    assert export_cases_csv(records, out) == 4
    again = import_cases(out.getvalue(), TEMPLATE, form="simplified")
    assert again.ok and again.cases == cases
