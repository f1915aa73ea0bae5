"""Versioned message templates: the registry, validation, and signed template documents.

A template is a JSON document ``{id, version, title, default_form, forms, labels}`` whose
``forms`` are JSON Schema (Draft 2020-12) documents. Schemas name controlled vocabularies as
``{"$ref": "urn:cordon:vocab:<name>"}``; those resolve only against the vocabularies shipped
with this package, never over the network. Built-ins (``seizure-case`` v1, full and simplified
forms; ``vaccine-prenotification`` v1) are package data. A coordinator publishes further
versions for a group as *signed template documents* (docs/PROTOCOL.md §12); clients add one to
their registry only after the signature verifies under a key they trust.

Message content is JSON ``{"type", "template": {"id", "version", "form"}, "data"}``; a message
keeps the template version it was written in, so old messages validate against old versions.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError
from jsonschema.exceptions import ValidationError as SchemaValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from cordon_client import wire
from cordon_client.crypto._encoding import sha256, signing_input
from cordon_client.exceptions import CordonClientError

VOCAB_PREFIX = "urn:cordon:vocab:"
LANGUAGES = ("en", "fr", "es", "ru", "ar", "pt")
"""The languages the CLI and the report offer; the built-in templates label every field in each."""
REQUIRED_LANGUAGES = ("en", "fr", "es")
"""The labels every template must carry: group templates signed before ru/ar/pt arrived carry
only these, and a missing language falls back to English (`Template.label`)."""
SIGNED_FIELDS = frozenset(
    {"v", "group_id", "template_id", "version", "ts", "template", "signer", "sig"}
)
TEMPLATE_ID = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
BUILTIN_FILES = ("seizure-case.v1.json", "vaccine-prenotification.v1.json")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]00:00)$")


class TemplateError(CordonClientError):
    """A template, or a message checked against one, cannot be used."""


class UnknownTemplateError(TemplateError):
    """The registry holds no such template id and version."""


class TemplateSignatureError(TemplateError):
    """A signed template document is malformed, forged, or signed by an untrusted key."""


@dataclass(frozen=True)
class FieldError:
    """One reason a message does not fit its template, at a dotted field path."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path or '(message)'}: {self.reason}"


class InvalidContentError(TemplateError):
    """The message does not validate; `errors` name every failing field and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def _package_json(name: str) -> Any:
    text = resources.files("cordon_client").joinpath("templates", name).read_text("utf-8")
    return json.loads(text)


@cache
def vocabularies() -> Mapping[str, list[dict[str, Any]]]:
    """Every controlled vocabulary: name -> list of ``{code, en, fr, es, ru, ar, pt}``."""
    data: dict[str, list[dict[str, Any]]] = _package_json("vocabularies.json")["vocabularies"]
    return data


@cache
def _vocab_registry() -> Registry[Any]:
    pairs: list[tuple[str, Resource[Any]]] = [
        (VOCAB_PREFIX + name, DRAFT202012.create_resource({"enum": [e["code"] for e in entries]}))
        for name, entries in vocabularies().items()
    ]
    return Registry().with_resources(pairs)


def _is_utc_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATETIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@cache
def _format_checker() -> FormatChecker:
    checker = FormatChecker(("date", "uuid"))
    register: Any = checker.checks("date-time")
    register(_is_utc_datetime)
    return checker


def _dotted(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_REASONS = {
    "enum": "{instance!r} is not an allowed code",
    "type": "must be of type {value}",
    "format": "{instance!r} is not a valid {value}",
    "minItems": "needs at least {value} entr{plural}",
    "minLength": "must not be empty",
    "maxLength": "is longer than {value} characters",
    "pattern": "{instance!r} does not have the expected form",
    "minimum": "must be at least {value}",
    "maximum": "must be at most {value}",
    "exclusiveMinimum": "must be greater than {value}",
}


def _field_error(error: SchemaValidationError) -> FieldError:
    """Turn a jsonschema error into a path a user can find and a reason they can act on."""
    path = list(error.absolute_path)
    validator, value = error.validator, error.validator_value
    if validator == "required":
        missing = re.match(r"'([^']+)'", error.message)
        return FieldError(_dotted([*path, missing.group(1) if missing else "?"]), "is required")
    if validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return FieldError(
            _dotted([*path, extra[0] if extra else "?"]), "is not a field of this template"
        )
    template = _REASONS.get(str(validator))
    if template is None:
        return FieldError(_dotted(path), error.message)
    plural = "y" if value == 1 else "ies"
    return FieldError(
        _dotted(path), template.format(instance=error.instance, value=value, plural=plural)
    )


def _check_labels(body: Mapping[str, Any]) -> None:
    labels = body.get("labels")
    if not isinstance(labels, dict):
        raise TemplateError("template: labels must be an object")
    for path, names in labels.items():
        if not isinstance(names, dict) or not all(
            isinstance(names.get(lang), str) and names[lang] for lang in REQUIRED_LANGUAGES
        ):
            raise TemplateError(f"template: label of {path} needs {', '.join(REQUIRED_LANGUAGES)}")


@dataclass(frozen=True)
class Template:
    """One version of a template, ready to validate messages with."""

    id: str
    version: int
    body: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Template:
        """Check a template document's shape and schemas, so a bad one fails at load time."""
        tid, version, forms = body.get("id"), body.get("version"), body.get("forms")
        if not isinstance(tid, str) or not TEMPLATE_ID.match(tid):
            raise TemplateError("template: id must be lowercase letters, digits and dashes")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise TemplateError("template: version must be a positive integer")
        if not isinstance(forms, dict) or not forms:
            raise TemplateError("template: forms must be a non-empty object")
        if body.get("default_form") not in forms:
            raise TemplateError("template: default_form must name one of its forms")
        for name, schema in forms.items():
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                raise TemplateError(
                    f"template: form {name} is not a valid schema: {exc.message}"
                ) from None
        _check_labels(body)
        return cls(id=tid, version=version, body=copy.deepcopy(dict(body)))

    @property
    def forms(self) -> list[str]:
        """Names of the forms (e.g. ``full``, ``simplified``)."""
        return list(self.body["forms"])

    @property
    def default_form(self) -> str:
        """The form used when a message names none."""
        return str(self.body["default_form"])

    def schema(self, form: str | None = None) -> Mapping[str, Any]:
        """The JSON Schema of one form."""
        name = form or self.default_form
        if name not in self.body["forms"]:
            raise UnknownTemplateError(f"{self.id} v{self.version} has no form {name!r}")
        schema: Mapping[str, Any] = self.body["forms"][name]
        return schema

    def errors(self, data: object, form: str | None = None) -> list[FieldError]:
        """Every reason `data` does not fit this form, sorted by field path."""
        validator = Draft202012Validator(
            self.schema(form), registry=_vocab_registry(), format_checker=_format_checker()
        )
        found = [_field_error(e) for e in validator.iter_errors(data)]
        return sorted(set(found), key=lambda e: (e.path, e.reason))

    def validate(self, data: object, form: str | None = None) -> None:
        """Raise InvalidContentError naming each bad field, or return quietly."""
        errors = self.errors(data, form)
        if errors:
            raise InvalidContentError(errors)

    def label(self, path: str, lang: str = "en") -> str:
        """A field's label in a language (indices ignored), falling back to English."""
        key = re.sub(r"\[\d+\]", "", path)
        names: Mapping[str, str] = self.body["labels"].get(key, {})
        return names.get(lang) or names.get("en") or key

    def field_paths(self, form: str | None = None) -> list[str]:
        """Dotted paths of every field of a form (arrays of objects descend into items)."""
        out: list[str] = []

        def walk(schema: Mapping[str, Any], prefix: str) -> None:
            for name, sub in schema.get("properties", {}).items():
                path = prefix + name
                out.append(path)
                target = sub.get("items", sub) if sub.get("type") == "array" else sub
                if target.get("type") == "object":
                    walk(target, path + ".")

        walk(self.schema(form), "")
        return out


def canonical_json(value: object) -> bytes:
    """The canonical JSON of PROTOCOL.md §2.2 (`cordon_client.wire`): one byte string per
    document; a non-integer or an integer beyond ±(2^53−1) is refused."""
    try:
        return wire.canonical_json(value)
    except wire.WireFormatError as exc:
        raise TemplateError(f"template: {exc}") from None


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64d(text: object, length: int, what: str) -> bytes:
    if not isinstance(text, str) or "=" in text:
        raise TemplateSignatureError(f"signed template: {what} must be unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TemplateSignatureError(f"signed template: {what} is not base64url") from None
    if len(raw) != length or _b64e(raw) != text:
        raise TemplateSignatureError(f"signed template: {what} must be {length} bytes")
    return raw


def template_signing_input(
    *,
    group_id: uuid.UUID,
    template_id: str,
    version: int,
    ts: int,
    body_hash: bytes,
    signer: bytes,
) -> bytes:
    """``sig_input("template", 1, group_id, template_id, version, ts, SHA-256(body), signer)``."""
    return signing_input("template", 1, group_id, template_id, version, ts, body_hash, signer)


def sign_template(
    template: Template | Mapping[str, Any],
    *,
    group_id: uuid.UUID,
    signing_key: Ed25519PrivateKey,
    ts: int,
) -> dict[str, Any]:
    """Wrap a template body in a signed document a coordinator's device publishes to the group."""
    body = template.body if isinstance(template, Template) else template
    checked = Template.from_body(body)
    signer = signing_key.public_key().public_bytes_raw()
    message = template_signing_input(
        group_id=group_id,
        template_id=checked.id,
        version=checked.version,
        ts=ts,
        body_hash=sha256(canonical_json(checked.body)),
        signer=signer,
    )
    return {
        "v": 1,
        "group_id": str(group_id),
        "template_id": checked.id,
        "version": checked.version,
        "ts": ts,
        "template": copy.deepcopy(dict(checked.body)),
        "signer": _b64e(signer),
        "sig": _b64e(signing_key.sign(message)),
    }


def verify_signed_template(
    document: Mapping[str, Any], *, group_id: uuid.UUID, trusted_keys: Collection[bytes]
) -> Template:
    """The template inside a signed document, if its signer is trusted and the signature holds.

    `trusted_keys` are the Ed25519 keys the caller's *verified roster* allows to publish
    templates: the group's root key and the keys of its coordinator-role members and their
    devices. Anything else raises TemplateSignatureError.
    """
    if not isinstance(document, Mapping) or set(document) != SIGNED_FIELDS:
        raise TemplateSignatureError(f"signed template: needs exactly {sorted(SIGNED_FIELDS)}")
    if document["v"] != 1:
        raise TemplateSignatureError("signed template: unsupported version")
    if document["group_id"] != str(group_id):
        raise TemplateSignatureError("signed template: published for another group")
    ts = document["ts"]
    if not isinstance(ts, int) or isinstance(ts, bool) or ts < 0:
        raise TemplateSignatureError("signed template: ts must be a non-negative integer")
    signer = _b64d(document["signer"], 32, "signer")
    sig = _b64d(document["sig"], 64, "sig")
    if signer not in set(trusted_keys):
        raise TemplateSignatureError("signed template: the signer is not a coordinator key")
    body = document["template"]
    if not isinstance(body, Mapping):
        raise TemplateSignatureError("signed template: template must be an object")
    template = Template.from_body(body)
    if (template.id, template.version) != (document["template_id"], document["version"]):
        raise TemplateSignatureError("signed template: id or version differs from its body")
    message = template_signing_input(
        group_id=group_id,
        template_id=template.id,
        version=template.version,
        ts=ts,
        body_hash=sha256(canonical_json(template.body)),
        signer=signer,
    )
    try:
        Ed25519PublicKey.from_public_bytes(signer).verify(sig, message)
    except InvalidSignature:
        raise TemplateSignatureError("signed template: signature does not verify") from None
    return template


class TemplateRegistry:
    """The templates a client knows: built-ins plus verified group-published versions."""

    def __init__(self, *, builtins: bool = True) -> None:
        self._templates: dict[tuple[str, int], Template] = {}
        if builtins:
            for name in BUILTIN_FILES:
                self.add(Template.from_body(_package_json(name)))

    def add(self, template: Template) -> None:
        """Register a version; re-adding the same body is a no-op, a different body an error."""
        key = (template.id, template.version)
        known = self._templates.get(key)
        if known is not None and canonical_json(known.body) != canonical_json(template.body):
            raise TemplateError(
                f"{template.id} v{template.version} is already a different "
                "template; publish a new version instead"
            )
        self._templates[key] = template

    def add_signed(
        self, document: Mapping[str, Any], *, group_id: uuid.UUID, trusted_keys: Collection[bytes]
    ) -> Template:
        """Verify a signed template document and register the template in it."""
        template = verify_signed_template(document, group_id=group_id, trusted_keys=trusted_keys)
        self.add(template)
        return template

    def get(self, template_id: str, version: int | None = None) -> Template:
        """One version (the latest when `version` is None), or UnknownTemplateError."""
        if version is None:
            versions = self.versions(template_id)
            if not versions:
                raise UnknownTemplateError(f"unknown template {template_id!r}")
            version = versions[-1]
        template = self._templates.get((template_id, version))
        if template is None:
            raise UnknownTemplateError(f"unknown template version {template_id} v{version}")
        return template

    def versions(self, template_id: str) -> list[int]:
        """Known versions of a template, oldest first."""
        return sorted(v for t, v in self._templates if t == template_id)

    def ids(self) -> list[str]:
        """Ids of every known template."""
        return sorted({t for t, _ in self._templates})

    def make_content(
        self,
        kind: str,
        template_id: str,
        data: Mapping[str, Any],
        *,
        version: int | None = None,
        form: str | None = None,
    ) -> bytes:
        """Validate, then encode message content; call this before encrypting."""
        template = self.get(template_id, version)
        chosen = form or template.default_form
        template.validate(data, chosen)
        content = {
            "type": kind,
            "template": {"id": template.id, "version": template.version, "form": chosen},
            "data": data,
        }
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def read_content(self, raw: bytes) -> dict[str, Any]:
        """Decode and validate decrypted content against the version it was written in."""
        try:
            content: dict[str, Any] = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise InvalidContentError([FieldError("", "content is not JSON")]) from None
        ref = content.get("template") if isinstance(content, dict) else None
        if not isinstance(ref, dict) or not isinstance(content.get("type"), str):
            raise InvalidContentError([FieldError("template", "content names no template")])
        template = self.get(str(ref.get("id")), _int(ref.get("version")))
        template.validate(content.get("data"), ref.get("form"))
        return content


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidContentError([FieldError("template.version", "must be an integer")])
    return value
