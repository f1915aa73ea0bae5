"""Template fields as a person types them: answers, allowed codes and the example files."""

import json
from pathlib import Path

import pytest
import yaml
from cordon_client.records.view import THREAD_TEMPLATES
from cordon_client.templates import fields
from cordon_client.templates.registry import LANGUAGES, TemplateRegistry, vocabularies

REPO = Path(__file__).parents[2]
REGISTRY = TemplateRegistry()
CASE = REGISTRY.get("seizure-case")
PN = REGISTRY.get("vaccine-prenotification")


def _field(path: str, template=CASE, form: str = "simplified") -> fields.Field:
    return next(f for f in fields.fields(template, form) if f.path == path)


@pytest.mark.parametrize(
    ("typed", "value"),
    [("4,800", 4800), ("4 800", 4800), ("1,234,567.5", 1234567.5), ("12.5", 12.5), ("120", 120)],
)
def test_quantities_accept_thousands_separators(typed: str, value: float):
    """A quantity typed with thousands separators is the number meant, not a crash."""
    assert fields.parse_answer(_field("reports.items.quantity"), typed) == value


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("4,8", "'4,8' is not a number"),
        ("48,00", "'48,00' is not a number"),
        ("0", "must be greater than 0"),
        ("many", "'many' is not a number"),
        ("", "an answer is required"),
    ],
)
def test_bad_quantities_say_why(typed: str, reason: str):
    """An ambiguous or impossible number is refused with the reason, never guessed."""
    with pytest.raises(fields.AnswerError, match=reason):
        fields.parse_answer(_field("reports.items.quantity"), typed)


def test_whole_numbers_refuse_decimals():
    """Doses are counted: a decimal is refused, a separated integer accepted."""
    doses = _field("product.doses", PN, "full")
    assert fields.parse_answer(doses, "117,000") == 117000
    with pytest.raises(fields.AnswerError, match="not a whole number"):
        fields.parse_answer(doses, "1.5")


def test_codes_are_matched_by_code_or_label_in_any_language():
    """`be`, `Belgique` and `BE` are the same country; a near miss suggests codes."""
    country = _field("reporting_country")
    assert {fields.parse_answer(country, t, "fr") for t in ("be", "Belgique", "BE")} == {"BE"}
    with pytest.raises(fields.AnswerError, match="did you mean BE Belgique"):
        fields.parse_answer(country, "belg", "fr")
    assert fields.parse_answer(_field("information_accuracy"), "2") == 2


def test_codes_are_matched_by_label_in_russian_arabic_and_portuguese():
    """A person types the country as their language names it: Бельгия, بلجيكا, Índia."""
    country = _field("reporting_country")
    assert fields.parse_answer(country, "бельгия", "ru") == "BE"
    assert fields.parse_answer(country, "بلجيكا", "ar") == "BE"
    assert fields.parse_answer(country, "índia", "pt") == "IN"
    with pytest.raises(fields.AnswerError, match="did you mean BE Бельгия"):
        fields.parse_answer(country, "бельг", "ru")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_labels_every_field_and_code(lang: str):
    """The built-in templates (and the reply, review and discrepancy ones) name every field and
    list every code in each offered language, so a prompt never falls back to English there."""
    for template in (CASE, PN, *THREAD_TEMPLATES):
        for form in template.body["forms"]:
            for field in fields.fields(template, form):
                key = field.path
                assert template.body["labels"][key].get(lang), (template.id, key, lang)
    for vocabulary, entries in vocabularies().items():
        assert all(entry.get(lang) for entry in entries), (vocabulary, lang)


def test_allowed_codes_are_listed_with_labels_in_the_language():
    """Small vocabularies are listed in full, labelled in the user's language."""
    listed = dict(fields.codes(_field("handling_code"), "es"))
    assert set(listed) == {"H0", "H1", "H2", "H3"}
    assert all(label and label != code for code, label in listed.items())
    assert fields.allowed(_field("handling_code")) == "one of H0, H1, H2, H3"


def test_prompted_fields_are_the_required_ones_of_the_simplified_form():
    """The 14 prompts are exactly what the simplified form requires, in schema order."""
    paths = [f.path for f in fields.prompt_fields(CASE, "simplified")]
    assert paths[:4] == [
        "reporting_country",
        "handling_code",
        "source_reliability",
        "information_accuracy",
    ]
    assert "reports.transport.mode" in paths and paths[-1] == "reports.items.unit"
    assert len(paths) == 14


@pytest.mark.parametrize(("template", "form"), [(CASE, "full"), (CASE, "simplified"), (PN, "full")])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_commented_example_loads_to_a_valid_message(template, form: str, lang: str):
    """The printed example is YAML that `--file` reads back to a message the template accepts,
    with every field of the form named in the user's language."""
    data = fields.example(template.id)[form]
    text = fields.commented_example(template, data, form=form, lang=lang)
    assert yaml.safe_load(text) == data
    assert template.errors(data, form) == []
    for field in fields.fields(template, form):
        assert template.label(field.path, lang) in text, field.path


def test_docs_example_is_the_shipped_example():
    """docs/examples/prenotification.json is the example `prenotifications template` prints."""
    documented = json.loads((REPO / "docs/examples/prenotification.json").read_text("utf-8"))
    assert documented == fields.example("vaccine-prenotification")["full"]


@pytest.mark.parametrize(
    ("given", "env", "expected"),
    [
        ("es", {"LANG": "fr_FR.UTF-8"}, "es"),
        (None, {"LANG": "fr_FR.UTF-8"}, "fr"),
        (None, {"LC_ALL": "es_ES.UTF-8", "LANG": "fr_FR"}, "es"),
        (None, {"LANG": "de_DE.UTF-8"}, "en"),
        ("ru", {"LANG": "fr_FR.UTF-8"}, "ru"),
        (None, {"LANG": "ar_EG.UTF-8"}, "ar"),
        (None, {"LC_MESSAGES": "pt_BR.UTF-8", "LANG": "en_US"}, "pt"),
        (None, {}, "en"),
    ],
)
def test_language_comes_from_the_option_then_the_locale(given, env, expected):
    """`--lang` wins, then LC_ALL / LC_MESSAGES / LANG; unknown languages fall back to English."""
    assert fields.language(given, env) == expected
