"""The `cordon` command line: one module per command group; `main.app` is all of it, and
`entry.run` the executable's entry point.

httpx imports its own command line (`httpx._main`: click, pygments, rich's progress and
syntax modules) whenever click is installed, which costs every `cordon` call a third of
httpx's import time (issue 12, "Speed"). `cordon` never runs httpx's command line, so when
httpx is not loaded yet a placeholder stands in for that one module.
"""

from __future__ import annotations

import sys
import types


def _without_httpx_command_line() -> None:
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    placeholder = types.ModuleType("httpx._main", "Not loaded by `cordon` (cordon_client.cli).")

    def main() -> None:
        raise SystemExit("httpx's command line is not loaded inside `cordon`")

    placeholder.main = main  # type: ignore[attr-defined]
    sys.modules["httpx._main"] = placeholder


_without_httpx_command_line()
