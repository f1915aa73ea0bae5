"""The report products over the shared fixture, without a server: presets choose the period
and sections, HTML is self-contained and non-nominal, CSV has one row per figure, and every
language the templates carry labels the report."""

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from cordon_client.analytics import render
from cordon_client.analytics.figures import Params, analyse
from cordon_client.analytics.report import preset_period, stem_of
from cordon_client.records.view import Item
from cordon_client.templates.registry import LANGUAGES

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "analytics"


@pytest.fixture(scope="module")
def table() -> dict:
    raw = json.loads((FIXTURE / "input.json").read_text("utf-8"))
    return analyse([Item.from_json(i) for i in raw["items"]], Params.from_json(raw["params"]))


def test_presets_choose_the_period() -> None:
    """Weekly: the 7 days ending --to; daily: that day; otherwise the period as given."""
    today = date(2021, 6, 30)
    assert preset_period("weekly_newsletter", None, date(2021, 5, 7), today) == (
        date(2021, 5, 1),
        date(2021, 5, 7),
    )
    assert preset_period("daily_report", None, None, today) == (today, today)
    assert preset_period(None, date(2021, 5, 1), None, today) == (date(2021, 5, 1), None)
    assert stem_of("daily_report", Params(today, today)) == "daily-report-2021-06-30"


def test_weekly_newsletter_html_is_self_contained_and_non_nominal(table: dict) -> None:
    """Inline SVG, no script or external resource, no narrative, the not-counted line."""
    page = render.to_html(
        table, lang="es", sections=render.PRESETS["weekly_newsletter"], kind="weekly_newsletter"
    )
    assert "<svg" in page and "<script" not in page and "<link" not in page and "src=" not in page
    assert "Boletín semanal" in page and "15,040" in page
    assert "NARRATIVE-MUST-NOT-LEAK" not in page and "in toys" not in page
    assert "No contabilizados" in page and "must be greater than 0" in page
    assert "Notificaciones previas" not in page  # not a section of the newsletter


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_template_language_labels_the_report(table: dict, lang: str) -> None:
    """Headings and vocabulary labels in each language the templates carry."""
    page = render.to_html(table, lang=lang, sections=("key_figures", "by_region"))
    assert {"en": "Key figures", "fr": "Chiffres clés", "es": "Cifras clave"}[lang] in page
    assert {
        "en": "West and Central Africa",
        "fr": "Afrique occidentale et centrale",
        "es": "África Occidental y Central",
    }[lang] in page


def test_csv_has_one_row_per_figure(table: dict) -> None:
    rows = list(csv.reader(io.StringIO(render.to_csv(table))))
    assert rows[0] == ["section", "key", "metric", "value"]
    assert ["key_figures", "", "pieces.medical_devices", "15040"] in rows
    assert ["by_region", "EUR", "cases", "3"] in rows
    assert ["by_transport_mode", "", "postal", "2"] in rows
    assert ["top_routes", "CN -> US", "seizure_reports", "2"] in rows


def test_pdf_is_a_pdf(table: dict) -> None:
    assert render.to_pdf(table, lang="fr", sections=("key_figures", "not_counted")).startswith(
        b"%PDF"
    )
