#!/usr/bin/env bash
# The whole test suite: lint, types, the web client (type check, Vitest unit tests,
# Playwright browser tests in Debian's Chromium against a real server), then pytest. Uses
# PostgreSQL and Redis when CORDON_TEST_DATABASE_URL / CORDON_TEST_REDIS_URL are set, SQLite
# and in-process otherwise. Without Node.js or Chromium it fails: nothing is skipped.
# CORDON_TEST_WEB=0 leaves the web client out (.ci/run's second, PostgreSQL pass: the
# browser talks to the same server code, so one pass of it is enough).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
.venv/bin/ruff check app clients tests bench scripts migrations/env.py
.venv/bin/ruff format --check app clients tests bench migrations/env.py
.venv/bin/mypy app clients/python/cordon_client

if [ "${CORDON_TEST_WEB:-1}" != "0" ]; then
  chromium=${CORDON_CHROMIUM:-/usr/bin/chromium}
  if [ ! -x "$chromium" ]; then
    echo "test: FAIL: no Chromium at $chromium (Debian: apt-get install chromium)" >&2
    exit 1
  fi
  scripts/build_web.sh --with-deps || { echo "test: FAIL: the web client did not build" >&2; exit 1; }
  (
    cd clients/web
    npm run --silent typecheck
    npm test --silent
    npm run --silent test:browser
  )
fi

# Three workers on two cores: most tests wait on a real uvicorn or a `cordon` subprocess, so a
# third keeps the cores busy. A file's tests stay on one worker (they share its server).
# CORDON_TEST_WORKERS=0 runs them in this process (pytest -n 0), e.g. to debug one test.
exec .venv/bin/pytest -n "${CORDON_TEST_WORKERS:-3}" --dist loadfile "$@"
