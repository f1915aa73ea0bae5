"""A template's fields as a person fills them in: labels, allowed codes, typed answers, examples.

The CLI asks for a form's required fields one at a time (`prompt_fields`, `parse_answer`) and
prints a commented example file (`commented_example`); both read the same template schema and
vocabularies the validator uses, so what a prompt accepts is what the template accepts.
Labels come in every language of `registry.LANGUAGES`; codes are language-neutral.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from cordon_client.templates.registry import (
    LANGUAGES,
    VOCAB_PREFIX,
    Template,
    _field_error,
    _format_checker,
    _vocab_registry,
    vocabularies,
)

LISTED_CODES = 25
"""Vocabularies up to this size are listed in full; longer ones (countries) on request (`?`)."""

# Digits with optional thousands separators (comma, space, no-break space, apostrophe,
# underscore) in groups of three, and a dot for decimals: 4800, 4,800, 4 800, 1,234.5.
_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:([,\u00a0\u202f '_])\d{3})(?:\1\d{3})*|\d+)(?:\.\d+)?$")
_EXAMPLE_FILES = {
    "seizure-case": "seizure-case.v1.example.json",
    "vaccine-prenotification": "vaccine-prenotification.v1.example.json",
}


class AnswerError(ValueError):
    """A typed answer does not fit its field; the message names what is allowed."""


@dataclass(frozen=True)
class Field:
    """One field of a form: where it goes, its schema, and whether it must be given."""

    path: str
    schema: Mapping[str, Any]
    required: bool

    @property
    def name(self) -> str:
        """The last part of the path (the key in its object)."""
        return self.path.rsplit(".", 1)[-1]

    @property
    def vocabulary(self) -> str | None:
        """The controlled vocabulary this field takes its codes from, if any."""
        ref = self.schema.get("$ref", "")
        return ref.removeprefix(VOCAB_PREFIX) if ref.startswith(VOCAB_PREFIX) else None

    @property
    def kind(self) -> str:
        """``object``, ``objects`` (list of objects), ``list`` (of values) or the JSON type."""
        kind = str(self.schema.get("type", "code" if self.vocabulary else "value"))
        if kind == "array":
            return "objects" if self.schema.get("items", {}).get("type") == "object" else "list"
        return kind


def language(given: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The user's language: `given`, else the locale (LC_ALL, LC_MESSAGES, LANG), else English."""
    import os  # noqa: PLC0415 - only for the default

    env = os.environ if environ is None else environ
    for candidate in (given, env.get("LC_ALL"), env.get("LC_MESSAGES"), env.get("LANG")):
        code = (candidate or "").split("_")[0].split(".")[0].lower()
        if code in LANGUAGES:
            return code
    return "en"


def fields(template: Template, form: str | None = None) -> list[Field]:
    """Every field of a form in schema order; `required` means required all the way down."""
    out: list[Field] = []

    def walk(schema: Mapping[str, Any], prefix: str, chain: bool) -> None:
        needed = set(schema.get("required", []))
        for name, sub in schema.get("properties", {}).items():
            field = Field(prefix + name, sub, chain and name in needed)
            out.append(field)
            if field.kind == "object":
                walk(sub, field.path + ".", field.required)
            elif field.kind == "objects":
                walk(sub["items"], field.path + ".", field.required)

    walk(template.schema(form), "", True)
    return out


def prompt_fields(template: Template, form: str | None = None) -> list[Field]:
    """The required values a person must type (objects and lists are filled in for them)."""
    return [f for f in fields(template, form) if f.required and f.kind not in ("object", "objects")]


def codes(field: Field, lang: str = "en") -> list[tuple[str, str]]:
    """The allowed codes of a coded field with their labels in `lang` (empty for free fields)."""
    if field.vocabulary is None:
        return []
    return [(str(e["code"]), str(e.get(lang) or e["en"])) for e in vocabularies()[field.vocabulary]]


def allowed(field: Field, lang: str = "en", *, prompt: bool = False) -> str:
    """What a field accepts, in a few words; `prompt` when it is being typed (`?` lists codes)."""
    schema, kind = field.schema, field.kind
    if field.vocabulary is not None:
        listed = codes(field, lang)
        if len(listed) <= LISTED_CODES:
            return "one of " + ", ".join(code for code, _ in listed)
        what = (
            "a country code (ISO 3166-1 alpha-2)" if field.vocabulary == "countries" else "a code"
        )
        example = next((f"{c} = {label}" for c, label in listed if c == "BE"), listed[0][0])
        return f"{what}, e.g. {example}" + (f"; ? lists all {len(listed)}" if prompt else "")
    if kind in ("number", "integer"):
        what = "a whole number" if kind == "integer" else "a number"
        bounds = [
            f">= {schema['minimum']}" if "minimum" in schema else "",
            f"> {schema['exclusiveMinimum']}" if "exclusiveMinimum" in schema else "",
            f"<= {schema['maximum']}" if "maximum" in schema else "",
        ]
        limit = " and ".join(b for b in bounds if b)
        sample = "4800 or 4,800" if kind == "integer" else "4800, 4,800 or 12.5"
        return f"{what}{' ' + limit if limit else ''}, e.g. {sample}"
    if schema.get("format") == "date":
        return "a date YYYY-MM-DD"
    if schema.get("format") == "date-time":
        return "a UTC time YYYY-MM-DDTHH:MM:SSZ"
    if schema.get("format") == "uuid":
        return "a UUID"
    if kind == "boolean":
        return "yes or no"
    if kind == "list":
        each = allowed(Field(field.path, field.schema.get("items", {}), False), lang)
        return f"values separated by commas, each {each}" if prompt else f"a list, each {each}"
    if "pattern" in schema:
        return f"text of the form {schema['pattern']}"
    return f"text up to {schema.get('maxLength', 'any')} characters"


def _number(text: str, integer: bool) -> int | float:
    match = _NUMBER.match(text.strip())
    if match is None:
        raise AnswerError(f"{text!r} is not a number")
    digits = re.sub(r"[,\u00a0\u202f '_]", "", text.strip())
    if integer and "." in digits:
        raise AnswerError(f"{text!r} is not a whole number")
    value = float(digits)
    return int(value) if integer or value.is_integer() else value


def _code(field: Field, text: str, lang: str) -> str | int:
    wanted = text.strip().casefold()
    entries = vocabularies()[field.vocabulary or ""]
    for entry in entries:
        names = {str(entry["code"]), *(str(entry[k]) for k in LANGUAGES if entry.get(k))}
        if wanted in {name.casefold() for name in names}:
            code: str | int = entry["code"]
            return code
    if len(entries) <= LISTED_CODES:
        raise AnswerError(f"{text!r} is not an allowed code")
    near = [
        f"{entry['code']} {entry.get(lang) or entry['en']}"
        for entry in entries
        if wanted and wanted in str(entry.get(lang) or entry["en"]).casefold()
    ][:5]
    raise AnswerError(
        f"{text!r} is not an allowed code" + (f"; did you mean {', '.join(near)}" if near else "")
    )


def parse_answer(field: Field, text: str, lang: str = "en") -> Any:
    """The value of a typed answer, or AnswerError saying why it does not fit the field."""
    kind = field.kind
    if not text.strip():
        raise AnswerError("an answer is required")
    value: Any
    if field.vocabulary is not None:
        value = _code(field, text, lang)
    elif kind in ("number", "integer"):
        value = _number(text, kind == "integer")
    elif kind == "boolean":
        if text.strip().lower() not in ("yes", "no", "true", "false", "y", "n"):
            raise AnswerError(f"{text!r} is not yes or no")
        value = text.strip().lower() in ("yes", "true", "y")
    elif kind == "list":
        value = [part.strip() for part in text.split(",") if part.strip()]
    else:
        value = text.strip()
    validator = Draft202012Validator(
        dict(field.schema), registry=_vocab_registry(), format_checker=_format_checker()
    )
    for error in validator.iter_errors(value):
        raise AnswerError(_field_error(error).reason)
    return value


def place(
    data: dict[str, Any], template: Template, form: str | None, path: str, value: Any
) -> None:
    """Put `value` at a dotted path, creating objects and first list items on the way."""
    kinds = {f.path: f.kind for f in fields(template, form)}
    target: dict[str, Any] = data
    parts = path.split(".")
    for depth, part in enumerate(parts[:-1]):
        prefix = ".".join(parts[: depth + 1])
        if kinds.get(prefix) == "objects":
            items = target.setdefault(part, [{}])
            target = items[0]
        else:
            target = target.setdefault(part, {})
    target[parts[-1]] = value


@cache
def example(template_id: str) -> dict[str, Any]:
    """A valid example message of a built-in template, shipped with the package."""
    name = _EXAMPLE_FILES[template_id]
    text = resources.files("cordon_client").joinpath("templates", name).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _comment(field: Field, template: Template, lang: str) -> str:
    mark = "required" if field.required else "optional"
    what = {"object": "a group of fields", "objects": "a list of entries"}.get(field.kind)
    return f"{template.label(field.path, lang)} ({mark}): {what or allowed(field, lang)}"


def commented_example(
    template: Template, data: Mapping[str, Any], *, form: str | None = None, lang: str = "en"
) -> str:
    """`data` as YAML with every field of the form explained in a comment, in `lang`.

    Fields absent from `data` appear commented out, so the file lists the whole form and still
    loads (YAML) to exactly `data`. Coded fields list their codes with labels.
    """
    by_path = {f.path: f for f in fields(template, form)}
    title = template.body.get("title", {})
    lines = [
        f"# {title.get(lang) or title.get('en') or template.id}: {template.id} "
        f"v{template.version}, form {form or template.default_form}.",
        "# Edit the values, keep the keys; lines starting with # are comments.",
    ]

    def codes_note(field: Field, indent: str) -> None:
        listed = codes(field, lang)
        if listed and len(listed) <= LISTED_CODES:
            for code, label in listed:
                lines.append(f"{indent}#   {code} = {label}")

    def skeleton(schema: Mapping[str, Any], prefix: str, lead: str) -> None:
        """An absent field, commented out; objects list their own fields below it."""
        for name in schema.get("properties", {}):
            field = by_path[prefix + name]
            lines.append(f"{lead}{name}: ...  # {_comment(field, template, lang)}")
            if field.kind in ("object", "objects"):
                sub = field.schema if field.kind == "object" else field.schema["items"]
                skeleton(sub, field.path + ".", lead + "  ")

    def emit(values: Mapping[str, Any], schema: Mapping[str, Any], prefix: str, ind: str) -> None:
        for name in schema.get("properties", {}):
            field = by_path[prefix + name]
            if name not in values:
                skeleton({"properties": {name: field.schema}}, prefix, ind + "# ")
                continue
            lines.append(f"{ind}# {_comment(field, template, lang)}")
            codes_note(field, ind)  # the codes with their labels, one per line
            value = values[name]
            if field.kind == "object":
                lines.append(f"{ind}{name}:")
                emit(value, field.schema, field.path + ".", ind + "  ")
            elif field.kind == "objects":
                lines.append(f"{ind}{name}:")
                for entry in value:
                    lines.append(f"{ind}  -")
                    emit(entry, field.schema["items"], field.path + ".", ind + "    ")
            else:
                lines.append(f"{ind}{name}: {json.dumps(value, ensure_ascii=False)}")

    emit(data, template.schema(form), "", "")
    return "\n".join(lines) + "\n"
