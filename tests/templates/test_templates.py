"""Client-side template validation: built-ins, field paths and reasons, labels, vocabularies."""

import json

import pytest
from cordon_client.templates.registry import (
    LANGUAGES,
    FieldError,
    InvalidContentError,
    Template,
    TemplateError,
    TemplateRegistry,
    UnknownTemplateError,
    vocabularies,
)

from tests.templates import samples

REGISTRY = TemplateRegistry()


def _errors(data: object, template: str = "seizure-case", form: str = "simplified") -> set[str]:
    return {str(e) for e in REGISTRY.get(template, 1).errors(data, form)}


def test_builtins_are_registered():
    """Both built-ins ship at version 1; seizure cases have a full and a simplified form."""
    assert REGISTRY.ids() == ["seizure-case", "vaccine-prenotification"]
    assert REGISTRY.get("seizure-case").forms == ["full", "simplified"]
    assert REGISTRY.versions("vaccine-prenotification") == [1]


def test_valid_samples_pass():
    """The samples fit their forms; the simplified case does not fit the full form."""
    seizure = REGISTRY.get("seizure-case", 1)
    assert seizure.errors(samples.case(), "simplified") == []
    assert seizure.errors(samples.case(full=True), "full") == []
    assert REGISTRY.get("vaccine-prenotification", 1).errors(samples.prenotification()) == []
    assert {e.path for e in seizure.errors(samples.case(), "full")} == {
        "outcome",
        "reports[0].detection",
        "reports[0].items[0].description",
    }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.pop("reporting_country"), "reporting_country: is required"),
        (lambda c: c.update(handling_code="H9"), "handling_code: 'H9' is not an allowed code"),
        (
            lambda c: c.update(information_accuracy="2"),
            "information_accuracy: '2' is not an allowed code",
        ),
        (
            lambda c: c["reports"][0].update(seizure_date="2021-02-30"),
            "reports[0].seizure_date: '2021-02-30' is not a valid date",
        ),
        (
            lambda c: c["reports"][0]["items"][0].update(hs_code="3002.4"),
            "reports[0].items[0].hs_code: '3002.4' is not an allowed code",
        ),
        (
            lambda c: c["reports"][0]["items"][0].update(quantity=0),
            "reports[0].items[0].quantity: must be greater than 0",
        ),
        (lambda c: c["reports"][0].update(items=[]), "reports[0].items: needs at least 1 entry"),
        (
            lambda c: c["reports"][0]["transport"].update(mode="boat"),
            "reports[0].transport.mode: 'boat' is not an allowed code",
        ),
        (lambda c: c.update(nickname="x"), "nickname: is not a field of this template"),
        (lambda c: c.update(reports="none"), "reports: must be of type array"),
    ],
)
def test_invalid_cases_name_field_and_reason(change, expected):
    """Each kind of mistake is reported at its field path with a reason a user can act on."""
    data = samples.case()
    change(data)
    assert expected in _errors(data)


def test_prenotification_errors():
    """Date-times must be UTC, IATA codes and temperatures come from the vocabulary/range."""
    data = samples.prenotification()
    data["transport"]["eta"] = "2021-06-01 15:30"
    data["cold_chain"]["iata_handling_code"] = "HOT"
    data["lots"][1].pop("expiry_date")
    data["cold_chain"]["temperature_min_c"] = -120
    assert _errors(data, "vaccine-prenotification", "full") == {
        "transport.eta: '2021-06-01 15:30' is not a valid date-time",
        "cold_chain.iata_handling_code: 'HOT' is not an allowed code",
        "lots[1].expiry_date: is required",
        "cold_chain.temperature_min_c: must be at least -100",
    }


def test_content_round_trip_and_refusal():
    """make_content refuses invalid data before encryption; read_content checks after."""
    raw = REGISTRY.make_content("seizure_case", "seizure-case", samples.case(), form="simplified")
    content = REGISTRY.read_content(raw)
    assert content["template"] == {"id": "seizure-case", "version": 1, "form": "simplified"}
    bad = samples.case()
    bad["reporting_country"] = "ZZ"
    with pytest.raises(InvalidContentError) as caught:
        REGISTRY.make_content("seizure_case", "seizure-case", bad, form="simplified")
    assert caught.value.errors == [FieldError("reporting_country", "'ZZ' is not an allowed code")]
    tampered = json.loads(raw)
    tampered["data"]["reports"][0]["direction"] = "sideways"
    with pytest.raises(InvalidContentError, match="reports\\[0\\].direction"):
        REGISTRY.read_content(json.dumps(tampered).encode())
    with pytest.raises(InvalidContentError, match="not JSON"):
        REGISTRY.read_content(b"\xff")


def test_unknown_template_versions_are_refused():
    """A message naming a version this client does not hold is refused, naming it."""
    raw = json.dumps(
        {"type": "seizure_case", "template": {"id": "seizure-case", "version": 9}, "data": {}}
    ).encode()
    with pytest.raises(UnknownTemplateError, match="seizure-case v9"):
        REGISTRY.read_content(raw)
    with pytest.raises(UnknownTemplateError):
        REGISTRY.get("no-such-template")
    with pytest.raises(UnknownTemplateError, match="no form"):
        REGISTRY.get("seizure-case").schema("tiny")


def test_every_field_has_labels_in_six_languages():
    """Every field of every built-in form is labelled in the web client's six languages
    (English, French, Spanish required of every template; Russian, Arabic, Portuguese too)."""
    for template_id in REGISTRY.ids():
        template = REGISTRY.get(template_id)
        for form in template.forms:
            for path in template.field_paths(form):
                labels = template.body["labels"][path]
                assert all(labels[lang] for lang in ("en", "fr", "es", "ru", "ar", "pt")), path
    assert REGISTRY.get("seizure-case").label("reports[3].items[0].hs_code", "es") == "Código SA"


def test_vocabularies():
    """Countries are the ISO 3166-1 list; the curated HS list holds the operation's headings."""
    vocab = vocabularies()
    countries = {c["code"] for c in vocab["countries"]}
    assert len(countries) == 249 and {"BE", "GH", "IN", "CN"} <= countries
    hs = {c["code"] for c in vocab["hs_codes"]}
    assert {"3002.41", "3004", "3005", "3006", "3822", "4015", "6307.90"} <= hs
    assert {"9018", "9019", "9020", "9021", "9022"} <= hs
    assert {c["code"] for c in vocab["iata_handling_codes"]} == {"PIL", "COL", "FRO", "CRT", "ERT"}
    assert {c["code"] for c in vocab["regions"]} == {"AMS", "EUR", "A/P", "MENA", "WCA", "ESA"}
    assert {"PCE", "KGM", "LTR"} <= {c["code"] for c in vocab["units"]}
    for entries in vocab.values():
        assert all(e[lang] for e in entries for lang in ("en", "fr", "es", "ru", "ar", "pt"))
    names = {c["code"]: c for c in vocab["countries"]}
    germany = names["DE"]
    assert (germany["ru"], germany["ar"], germany["pt"]) == ("Германия", "ألمانيا", "Alemanha")


def test_group_templates_need_en_fr_es_and_fall_back_to_english():
    """A group template signed with en/fr/es labels only (before ru/ar/pt were offered) still
    loads, and its labels fall back to English in ru/ar/pt; one without Spanish is refused."""
    body = {
        "id": "note",
        "version": 1,
        "title": "note",
        "default_form": "default",
        "forms": {"default": {"type": "object", "properties": {"text": {"type": "string"}}}},
        "labels": {"text": {"en": "Text", "fr": "Texte", "es": "Texto"}},
    }
    template = Template.from_body(body)
    assert [template.label("text", lang) for lang in LANGUAGES] == [
        "Text",
        "Texte",
        "Texto",
        "Text",
        "Text",
        "Text",
    ]
    body["labels"] = {"text": {"en": "Text", "fr": "Texte", "ru": "Текст"}}
    with pytest.raises(TemplateError, match="needs en, fr, es"):
        Template.from_body(body)
