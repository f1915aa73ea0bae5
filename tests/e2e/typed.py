"""`cordon --home HOME ARGS` as a person types it: the installed executable in its own process,
no terminal (prompts read stdin), no CORDON_* variable but the passphrase, HOME beside the state
directory, and no XDG_RUNTIME_DIR (so the unlock file lives in the state directory)."""

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.joining import PASSPHRASE

CORDON = str(Path(sys.executable).with_name("cordon"))
REPO = Path(__file__).parents[2]  # the working directory: docs/examples/… as the docs type it


def cordon(
    home: Path, *args: str, stdin: str = "", passphrase: str | None = PASSPHRASE
) -> subprocess.CompletedProcess[str]:
    """`cordon --home HOME ARGS`; CORDON_PASSPHRASE set unless `passphrase` is None."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CORDON_") and key != "XDG_RUNTIME_DIR"
    } | {"HOME": str(home.parent), "COLUMNS": "200", "LANG": "C.UTF-8"}
    if passphrase is not None:
        env["CORDON_PASSPHRASE"] = passphrase
    return subprocess.run(
        [CORDON, "--home", str(home), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=REPO,
        start_new_session=True,
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    """The output of a command that must succeed."""
    assert done.returncode == 0, (done.args, done.stdout, done.stderr)
    return done.stdout
