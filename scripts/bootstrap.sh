#!/usr/bin/env bash
# Create .venv (if missing) and install the server and the client into it.
# Usage: scripts/bootstrap.sh [extra]   where extra is "dev" for the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "dev" ]; then
  .venv/bin/python -m pip install --quiet -e ".[dev]" -e ./clients/python
else
  .venv/bin/python -m pip install --quiet -e . -e ./clients/python
fi
