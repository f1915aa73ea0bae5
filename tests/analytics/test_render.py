"""The report products over the shared fixture, without a server: presets choose the period
and sections, HTML is self-contained and non-nominal, CSV has one row per figure, and every
language the templates carry labels the report."""

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pytest
from cordon_client.analytics import messages, render
from cordon_client.analytics.figures import Params, analyse
from cordon_client.analytics.report import preset_period, stem_of
from cordon_client.records.view import Item
from cordon_client.templates.registry import LANGUAGES

SAME_WORD = {"phase", "destination", "medicines", "period", "country", "cases", "route"}
"""Keys whose English word is also the word in some language (Phase, Destination, ...)."""
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


KEY_FIGURES = {
    "en": "Key figures",
    "fr": "Chiffres clés",
    "es": "Cifras clave",
    "ru": "Основные показатели",
    "ar": "الأرقام الرئيسية",
    "pt": "Números-chave",
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_template_language_labels_the_report(table: dict, lang: str) -> None:
    """Headings and vocabulary labels in each language the templates carry; the page says its
    language and direction (Arabic right to left)."""
    page = render.to_html(table, lang=lang, sections=("key_figures", "by_region", "top_routes"))
    assert KEY_FIGURES[lang] in page
    assert messages.label("regions", "WCA", lang) in page
    assert {
        "en": "West and Central Africa",
        "fr": "Afrique occidentale et centrale",
        "es": "África Occidental y Central",
        "ru": "Западная и Центральная Африка",
        "ar": "غرب ووسط أفريقيا",
        "pt": "África Ocidental e Central",
    }[lang] in page
    assert messages.label("countries", "CN", lang) in page  # a route's departure
    dir_ = "rtl" if lang == "ar" else "ltr"
    assert f'<html lang="{lang}" dir="{dir_}">' in page
    # in Arabic a date is isolated left to right, else the bidi rules print 2021-05-01 as 01-05-2021
    assert ("\u20662021-05-01\u2069" in page) == (lang == "ar") and "2021-05-01" in page
    if lang != "en":  # nothing left in English: the English headings are all translated
        english = {messages.text(k, "en") for k in ("key_figures", "by_region", "top_routes")}
        assert not any(f"<h2>{word}</h2>" in page for word in english)


def test_every_language_has_every_message() -> None:
    """No key of the report's words is missing or empty in any language, and placeholders such
    as {n} are the same in each."""
    for key in messages.keys():
        english = messages.text(key, "en")
        for lang in LANGUAGES:
            words = messages._MESSAGES[key].get(lang)
            assert words, (key, lang)
            assert lang == "en" or words != english or key in SAME_WORD, (key, lang)
            assert set(re.findall(r"{\w+}", words)) == set(re.findall(r"{\w+}", english))


@pytest.mark.parametrize("lang", ["ru", "ar", "pt"])
def test_pdf_in_cyrillic_arabic_and_portuguese(table: dict, lang: str) -> None:
    """The embedded DejaVu font carries these scripts; Arabic is shaped by HarfBuzz (a missing
    uharfbuzz fails here, not in a member's hands)."""
    pdf = render.to_pdf(table, lang=lang, sections=("key_figures", "by_country", "highlights"))
    assert pdf.startswith(b"%PDF") and b"DejaVu" in pdf


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
