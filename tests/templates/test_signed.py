"""Signed template documents and version upgrades, on the client (pure, no server)."""

import copy
import uuid
from typing import Any

import pytest
from cordon_client.crypto._encoding import b64d, b64e
from cordon_client.templates.registry import (
    InvalidContentError,
    Template,
    TemplateError,
    TemplateRegistry,
    TemplateSignatureError,
    sign_template,
    verify_signed_template,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.templates import samples

GROUP = uuid.uuid4()
COORDINATOR = Ed25519PrivateKey.generate()
TRUSTED = [COORDINATOR.public_key().public_bytes_raw()]


def upgraded(version: int = 2) -> dict[str, Any]:
    """seizure-case with a new mandatory `case_priority` field in the simplified form."""
    body = copy.deepcopy(dict(TemplateRegistry().get("seizure-case", 1).body))
    body["version"] = version
    form = body["forms"]["simplified"]
    form["properties"]["case_priority"] = {"type": "string", "enum": ["routine", "urgent"]}
    form["required"].append("case_priority")
    body["labels"]["case_priority"] = {"en": "Priority", "fr": "Priorité", "es": "Prioridad"}
    return body


def flipped(sig: str) -> str:
    """The same signature with one bit flipped: a different value whatever the original was."""
    raw = bytearray(b64d(sig, length=64))
    raw[0] ^= 1
    return b64e(bytes(raw))


def signed(body: dict[str, Any] | None = None) -> dict[str, Any]:
    """A document signed by the coordinator's key for GROUP."""
    return sign_template(body or upgraded(), group_id=GROUP, signing_key=COORDINATOR, ts=1_700)


def test_signed_template_verifies():
    """A coordinator-signed document yields its template."""
    template = verify_signed_template(signed(), group_id=GROUP, trusted_keys=TRUSTED)
    assert (template.id, template.version) == ("seizure-case", 2)


def test_labels_beyond_en_fr_es_are_optional_and_kept():
    """A field labelled in en/fr/es only (as templates published before RU/AR/PT) still
    verifies beside six-language ones; the extra languages come through signed and intact."""
    template = verify_signed_template(signed(), group_id=GROUP, trusted_keys=TRUSTED)
    assert template.label("case_priority", "ru") == "Priority"  # falls back to English
    assert template.label("reports[0].seizure_date", "ar") == "تاريخ الضبط"
    assert template.label("reports[0].seizure_date", "pt") == "Data da apreensão"


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda d: d["template"]["forms"]["simplified"]["required"].pop(), "does not verify"),
        (
            lambda d: d["template"]["labels"]["case_priority"].update(en="Urgency"),
            "does not verify",
        ),
        (  # the RU/AR/PT labels are signed like the rest of the body
            lambda d: d["template"]["labels"]["reporting_country"].update(ar="بلد آخر"),
            "does not verify",
        ),
        (lambda d: d.update(ts=1_701), "does not verify"),
        (lambda d: d.update(version=3), "differs from its body"),
        (lambda d: d.update(group_id=str(uuid.uuid4())), "another group"),
        (lambda d: d.update(sig=flipped(d["sig"])), "does not verify"),
        (lambda d: d.pop("signer"), "needs exactly"),
        (lambda d: d.update(extra=1), "needs exactly"),
    ],
)
def test_tampered_documents_are_refused(tamper, message):
    """Any change to body, ids, time or signature breaks verification."""
    document = signed()
    tamper(document)
    with pytest.raises(TemplateSignatureError, match=message):
        verify_signed_template(document, group_id=GROUP, trusted_keys=TRUSTED)


def test_untrusted_signer_is_refused():
    """A valid signature by a key the roster does not make a coordinator key is refused."""
    document = sign_template(
        upgraded(), group_id=GROUP, signing_key=Ed25519PrivateKey.generate(), ts=1
    )
    with pytest.raises(TemplateSignatureError, match="not a coordinator key"):
        verify_signed_template(document, group_id=GROUP, trusted_keys=TRUSTED)


def test_bad_template_bodies_are_refused_before_signing():
    """Floats, a missing language, a broken schema or a bad id never get signed."""
    for change in (
        lambda b: b["forms"]["full"]["properties"].update(x={"type": "number", "minimum": 0.5}),
        lambda b: b["labels"]["case_id"].pop("es"),
        lambda b: b["forms"]["full"].update(type="thing"),
        lambda b: b.update(id="Seizure Case"),
        lambda b: b.update(default_form="tiny"),
    ):
        body = upgraded()
        change(body)
        with pytest.raises(TemplateError):
            signed(body)


def test_version_upgrade_keeps_old_messages_valid():
    """After v2 adds a mandatory field, v1 messages still validate against v1, new messages
    are written in v2, and a v2 message lacking the field is refused."""
    registry = TemplateRegistry()
    old = registry.make_content(
        "seizure_case", "seizure-case", samples.case(), version=1, form="simplified"
    )
    registry.add_signed(signed(), group_id=GROUP, trusted_keys=TRUSTED)
    assert registry.versions("seizure-case") == [1, 2]
    assert registry.read_content(old)["template"]["version"] == 1
    with pytest.raises(InvalidContentError, match="case_priority: is required"):
        registry.make_content("seizure_case", "seizure-case", samples.case(), form="simplified")
    new = registry.make_content(
        "seizure_case",
        "seizure-case",
        samples.case() | {"case_priority": "urgent"},
        form="simplified",
    )
    assert registry.read_content(new)["template"]["version"] == 2
    assert TemplateRegistry().get("seizure-case").version == 1


def test_a_version_cannot_be_redefined():
    """Re-registering the same body is harmless; a different body under a held version is not."""
    registry = TemplateRegistry()
    registry.add_signed(signed(), group_id=GROUP, trusted_keys=TRUSTED)
    registry.add(Template.from_body(upgraded()))
    clash = upgraded()
    clash["title"]["en"] = "Something else"
    with pytest.raises(TemplateError, match="already a different template"):
        registry.add_signed(signed(clash), group_id=GROUP, trusted_keys=TRUSTED)
    body = dict(TemplateRegistry().get("seizure-case", 1).body) | {"title": {"en": "x"}}
    with pytest.raises(TemplateError):
        registry.add(Template(id="seizure-case", version=1, body=body))
