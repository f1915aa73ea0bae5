#!/usr/bin/env bash
# The whole test suite: lint, types, then pytest. Uses PostgreSQL and Redis when
# CORDON_TEST_DATABASE_URL / CORDON_TEST_REDIS_URL are set, SQLite and in-process otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
.venv/bin/ruff check app clients tests bench scripts migrations/env.py
.venv/bin/ruff format --check app clients tests bench migrations/env.py
.venv/bin/mypy app clients/python/cordon_client
exec .venv/bin/pytest "$@"
