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
        (["--help"], None),
        (["--home", "h"], None),
        ([], None),
    ],
)
def test_the_command_typed_is_found_after_the_global_options(
    argv: list[str], command: str | None
) -> None:
    assert _command_typed(argv) == command


def _typed(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORDON_")}
    return subprocess.run(
        [CORDON, *args],
        capture_output=True,
        text=True,
        env=env | {"HOME": str(tmp_path), "COLUMNS": "200"},
        timeout=60,
    )


def test_help_and_errors_name_every_command_either_way(tmp_path: Path) -> None:
    """`--help` lists the verbs and the groups; a typo is answered with the closest names; a
    verb (run by the root alone) and a group command both run."""
    shown = _typed(tmp_path, "--help").stdout
    for name in ("groups", "receive", "lock", "group", "device", "library", "cases"):
        assert name in shown, shown
    typo = _typed(tmp_path, "--home", str(tmp_path / "h"), "grups")
    assert typo.returncode == 2 and "groups" in typo.stdout + typo.stderr
    verb = _typed(tmp_path, "--home", str(tmp_path / "h"), "whoami")
    assert verb.returncode == 1 and "log in first" in verb.stdout, verb
    group = _typed(tmp_path, "--home", str(tmp_path / "h"), "cases", "--help")
    assert group.returncode == 0 and "import-csv" in group.stdout
