#!/usr/bin/env bash
# The main job: install, migrate, seed the demo on an empty embedded database, serve on
# 127.0.0.1:8000. Extra arguments go to `cordon-server serve` (e.g. --port 8001).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/cordon-server serve "$@"
