"""Every `cordon` command a help text or the README names exists (issue 12, item 6).

`cordon cases --help` once listed `post`, `thread` and `import`, none of them commands. This
walks the real command tree (typer bundles its own click, so nodes are told apart by shape):
every `--help` renders, every group's help lists exactly its commands, and every `cordon …`
written in a help text, the README or docs/ resolves to a command.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from cordon_client.cli.main import app
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
TREE = typer.main.get_command(app)
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _is_group(command: Any) -> bool:
    return hasattr(command, "commands")


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    if _is_group(command):
        for name, sub in command.commands.items():
            yield from _walk(sub, (*path, name))


COMMANDS = dict(_walk(TREE))
GROUPS = {path: c for path, c in COMMANDS.items() if _is_group(c)}


def _resolve(words: list[str]) -> tuple[str, ...]:
    """The command path `cordon WORDS…` names; fails on a word that is no subcommand."""
    node: Any = TREE
    path: tuple[str, ...] = ()
    rest = iter(words)
    for word in rest:
        if not _is_group(node):
            break
        if word == "--help":
            break
        if word.startswith("-"):
            option = next((p for p in node.params if word.split("=")[0] in p.opts), None)
            assert option is not None, f"`cordon {' '.join(words)}`: no option {word}"
            if not getattr(option, "is_flag", False) and "=" not in word:
                next(rest, None)  # the option's value
            continue
        if word in ("…", "..."):  # "any command of this group"
            break
        if "|" in word:  # alternatives: each must exist
            for alternative in word.split("|"):
                assert alternative in node.commands, f"`cordon {' '.join(words)}`: no {alternative}"
            break
        assert word in node.commands, (
            f"`cordon {' '.join(words)}`: no command {' '.join((*path, word))}"
        )
        path, node = (*path, word), node.commands[word]
    return path


def _mentions(text: str) -> Iterator[list[str]]:
    """Each `cordon …` in backticks or at the start of a code-block line, as words."""
    for match in re.finditer(r"`cordon ([^`]+)`", text):
        yield re.sub(r"\|\s+", "|", match.group(1)).split()
    for match in re.finditer(r"^cordon (.+)$", text, re.MULTILINE):
        yield match.group(1).split("#")[0].split()


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: " ".join(p) or "cordon")
def test_every_help_renders(path: tuple[str, ...]) -> None:
    """`cordon … --help` exits 0 for every command and group."""
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("path", sorted(GROUPS), ids=lambda p: " ".join(p) or "cordon")
def test_a_group_help_lists_exactly_its_commands(path: tuple[str, ...]) -> None:
    """A group whose help lists commands ("…: a, b, c.") lists each of them and no other."""
    group = GROUPS[path]
    listed = re.search(r":\s*([a-z][a-z-]*(?:,\s*[a-z][a-z-]*)+)\.", group.help or "")
    if listed is None:
        return
    names = [n.strip() for n in listed.group(1).split(",")]
    assert sorted(names) == sorted(group.commands), (path, group.help)


def test_help_texts_name_only_real_commands() -> None:
    """Every `cordon …` in a command's help text resolves to a command."""
    for command in COMMANDS.values():
        for words in _mentions(command.help or ""):
            _resolve(words)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_readme_and_docs_name_only_real_commands(doc: Path) -> None:
    """Every `cordon …` in the README and docs/ resolves to a command (options included)."""
    for words in _mentions(doc.read_text()):
        _resolve(words)


def test_the_group_is_positional_everywhere() -> None:
    """One form for the group: a positional GROUP argument, never a --group option."""
    for path, command in COMMANDS.items():
        names = {p.name for p in command.params}
        if "group" not in names:
            continue
        param = next(p for p in command.params if p.name == "group")
        assert param.param_type_name == "argument", f"cordon {' '.join(path)}: group is an option"
