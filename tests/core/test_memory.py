"""The server keeps freed megabyte buffers for reuse instead of faulting them in again.

Measured in a fresh interpreter (the thresholds are process-wide): each round holds what a
few segments on their way to the database hold (the body's chunks, the joined segment, a
driver's 2 MiB message buffer), writes it and frees it.
"""

import json
import os
import subprocess
import sys

import pytest

ROUNDS = 50
_PROBE = f"""
import json, resource, sys
from app.core.memory import keep_freed_memory
changed = keep_freed_memory() if sys.argv[1] == "keep" else False
def one_round():
    held = []
    for _ in range(4):
        parts = [bytes(256 * 1024) for _ in range(4)]
        held.append(b"".join(parts))
        held.append(bytearray(2 * 1024 * 1024))
        held[-1][::4096] = b"x" * len(held[-1][::4096])
    del held
for _ in range(3):
    one_round()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range({ROUNDS}):
    one_round()
print(json.dumps({{"changed": changed,
                  "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}}))
"""

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")


def _probe(mode: str, env: dict[str, str] | None = None) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True, env=env
    )
    return dict(json.loads(out.stdout))


@linux_only
def test_freed_buffers_are_reused_without_page_faults() -> None:
    default = _probe("default")
    kept = _probe("keep")
    assert kept["changed"] is True
    # By default the freed top of the heap goes back to the kernel and each round faults
    # megabytes in again (256 faults per MiB); kept, the same memory serves every round.
    assert int(str(default["faults"])) >= ROUNDS * 256, default
    assert int(str(kept["faults"])) < ROUNDS * 8, kept


@linux_only
def test_an_operators_malloc_settings_are_left_alone() -> None:
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "131072"}
    assert _probe("keep", env)["changed"] is False
