#!/usr/bin/env bash
# The main job: install, build the web client when its sources changed, migrate, seed the
# demo on an empty embedded database, serve on 127.0.0.1:8000 (the web client at /, the API
# at /api/v1). Extra arguments go to `cordon-server serve` (e.g. --port 8001).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
status=0
scripts/build_web.sh || status=$?
if [ "$status" -eq 3 ]; then
  echo "serve: no Node.js: serving the API alone (/ answers web.not_built)" >&2
elif [ "$status" -ne 0 ]; then
  exit "$status"
fi
exec .venv/bin/cordon-server serve "$@"
