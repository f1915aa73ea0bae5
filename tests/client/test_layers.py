"""The SDK's packages import one way (issue 12): the contracts in pyproject.toml hold.

`cli` sits on top, `wire` and `exceptions` at the bottom, and no package's modules import each
other in a circle. import-linter reads the real import graph, so a new upward import fails here.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept() -> None:
    """`lint-imports` over cordon_client keeps every contract in pyproject.toml."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
