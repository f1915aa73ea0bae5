"""The `cordon` executable builds only the root for a top-level verb and the whole command line
for anything else; either way a person sees the same commands, help and errors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cordon_client.cli.entry import _command_typed

CORDON = str(Path(sys.executable).with_name("cordon"))


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["groups"], "groups"),
        (["--home", "h", "--server", "http://x", "receive"], "receive"),
        (["--home=h", "send", "G", "text"], "send"),
        (["--home", "h", "cases", "list", "G"], "cases"),
        (["--debug", "--credential-file", "c", "--server=http://x", "login"], "login"),
        (["--credential-file=c", "groups"], "groups"),
        (["--debug", "--help"], None),
        (["--help"], None),
        (["--home", "h"], None),
        ([], None),
    ],
)
def test_the_command_typed_is_found_after_the_global_options(
    argv: list[str], command: str | None
) -> None:
    assert _command_typed(argv) == command


def _typed(tmp_path: Path, *args: str, given: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORDON_")}
    return subprocess.run(
        [CORDON, *args],
        capture_output=True,
        text=True,
        env=env | {"HOME": str(tmp_path), "COLUMNS": "200"},
        timeout=60,
        input=given,
    )


def test_help_and_errors_name_every_command_either_way(tmp_path: Path) -> None:
    """`--help` lists the verbs and the groups; a typo is answered with the closest names; a
    verb (run by the root alone) and a group command both run."""
    shown = _typed(tmp_path, "--help").stdout
    for name in ("groups", "receive", "lock", "group", "device", "library", "cases"):
        assert name in shown, shown
    typo = _typed(tmp_path, "--home", str(tmp_path / "h"), "grups")
    assert typo.returncode == 1 and "groups" in typo.stderr, typo
    verb = _typed(tmp_path, "--home", str(tmp_path / "h"), "whoami")
    assert verb.returncode == 1 and "log in first" in verb.stderr, verb
    group = _typed(tmp_path, "--home", str(tmp_path / "h"), "cases", "--help")
    assert group.returncode == 0 and "import-csv" in group.stdout


def test_a_verb_run_by_the_root_alone_keeps_the_global_options_and_one_line_errors(
    tmp_path: Path,
) -> None:
    """`--credential-file` and `--debug` reach a top-level verb: a missing credential file is
    one line and exit 1, and with `--debug` the same failure keeps its traceback."""
    home = ["--server", "http://127.0.0.1:9", "--home", str(tmp_path / "h")]
    absent = ["--credential-file", str(tmp_path / "absent")]
    refused = _typed(tmp_path, *home, *absent, "login")
    assert refused.returncode == 1, refused
    assert "cannot read the credential file" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    unreachable = _typed(tmp_path, *home, "login", "someone", given="password\n")
    assert unreachable.returncode == 1 and "cannot reach the server" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr, unreachable.stderr
    debug = _typed(tmp_path, "--debug", *home, "login", "someone", given="password\n")
    assert debug.returncode == 1 and "Traceback" in debug.stderr, debug.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["grups"], "No such command 'grups'"),
        (["send"], "Missing argument"),
        (["groups", "--colour"], "No such option: --colour"),
        (["library", "ls", "G", "--limit", "x"], "No such option: --limit"),
    ],
)
def test_a_mistyped_command_line_is_one_line_and_exit_1(
    tmp_path: Path, args: list[str], said: str
) -> None:
    """A usage error, whether the root alone or the whole command line parses it, reads like
    any other failure (README: one line on stderr with a hint, exit status 1), not typer's
    box and exit status 2; `--debug` does not turn it into a traceback."""
    for debug in ([], ["--debug"]):
        typed = _typed(tmp_path, *debug, "--home", str(tmp_path / "h"), *args)
        assert typed.returncode == 1, typed
        assert typed.stderr.startswith("error: ") and said in typed.stderr, typed.stderr
        assert typed.stderr.count("\n") == 1 and "--help" in typed.stderr, typed.stderr
        assert "╭" not in typed.stderr + typed.stdout and typed.stdout == ""


def test_no_arguments_still_print_the_help(tmp_path: Path) -> None:
    """`cordon` or a command group typed alone shows its help, as typer does (status 2)."""
    for args, listed in (([], "groups"), (["cases"], "import-csv")):
        shown = _typed(tmp_path, *args)
        assert shown.returncode == 2 and listed in shown.stdout, shown
        assert "Usage" in shown.stdout and shown.stderr == ""


def test_the_root_alone_starts_without_the_record_domain() -> None:
    """A top-level verb (`groups`, `send`, …) loads neither the record store, the templates
    nor JSON Schema / YAML: only `cases`, `prenotifications` and a typed pre-notification
    need them (issue 12, "Speed")."""
    probe = (
        "import sys; from cordon_client.cli import entry; entry.root.build(); "
        "print([m for m in ('jsonschema', 'yaml', 'cordon_client.records.store',"
        " 'cordon_client.templates.registry') if m in sys.modules])"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert loaded.stdout.strip() == "[]", loaded
