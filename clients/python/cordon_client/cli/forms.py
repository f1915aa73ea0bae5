"""Filling in a template at the terminal: prompts checked answer by answer, and example files.

Shared by `cordon cases create` (prompts) and `cordon cases template` /
`cordon prenotifications template` (a commented example). Labels follow `--lang`, else the
locale; a wrong answer is asked again with one line naming the field and what is allowed, so
nothing is sent before every answer fits.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from cordon_client.templates import fields as template_fields
from cordon_client.templates.registry import LANGUAGES, Template

Lang = Annotated[
    str | None,
    typer.Option(
        "--lang", help=f"Labels in {', '.join(LANGUAGES)} (default: from the locale, else en)."
    ),
]


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def language(given: str | None) -> str:
    """`--lang` if it names a known language, else the locale's, else English."""
    if given is not None and given.lower() not in LANGUAGES:
        raise typer.BadParameter(
            f"{given!r}: choose one of {', '.join(LANGUAGES)}", param_hint="--lang"
        )
    return template_fields.language(given)


def _list_codes(out: Console, field: template_fields.Field, lang: str) -> None:
    for code, label in template_fields.codes(field, lang):
        out.print(f"  {escape(code):<8} {escape(label)}")


def ask(field: template_fields.Field, template: Template, lang: str) -> Any:
    """Ask one field until the answer fits it; each wrong answer gets one line saying why."""
    out = _console()
    label = template.label(field.path, lang)
    listed = template_fields.codes(field, lang)
    if listed and len(listed) <= template_fields.LISTED_CODES:
        out.print(f"{escape(label)}:")
        _list_codes(out, field, lang)
    while True:
        text = str(typer.prompt(f"{label} [{template_fields.allowed(field, lang, prompt=True)}]"))
        if text.strip() == "?" and listed:
            _list_codes(out, field, lang)
            continue
        try:
            return template_fields.parse_answer(field, text, lang)
        except template_fields.AnswerError as exc:
            out.print(
                f"[red]{escape(label)}: {escape(str(exc))}; allowed: "
                f"{escape(template_fields.allowed(field, lang, prompt=True))}[/red]"
            )


def fill_in(template: Template, form: str, lang: str) -> dict[str, Any]:
    """A message of `form` built from the answers to its required fields."""
    data: dict[str, Any] = {}
    for field in template_fields.prompt_fields(template, form):
        template_fields.place(data, template, form, field.path, ask(field, template, lang))
    template.validate(data, form)
    return data


def print_example(template: Template, form: str | None, lang: str, command: str) -> None:
    """The template's example as a commented YAML file `command --file` accepts as it is."""
    chosen = form or template.default_form
    if chosen not in template.forms:
        raise typer.BadParameter(
            f"{chosen!r}: choose one of {', '.join(template.forms)}", param_hint="--form"
        )
    data = template_fields.example(template.id)[chosen]
    text = template_fields.commented_example(template, data, form=chosen, lang=lang)
    typer.echo(f"# Send it with: {command}\n{text}", nl=False)
