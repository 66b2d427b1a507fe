#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs uv if missing, syncs the locked
# dependencies, starts PostgreSQL and RabbitMQ if they are not running, installs Debian's Chromium
# for the browser tests if missing, then lints, type-checks
# and runs pytest (PostgreSQL and SQLite). Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/_setup.sh"

sync_dependencies
start_postgres
start_rabbitmq
ensure_chromium

echo "== ruff" >&2
"${UV[@]}" run ruff check .
"${UV[@]}" run ruff format --check .
echo "== mypy" >&2
"${UV[@]}" run mypy
echo "== pytest" >&2
"${UV[@]}" run pytest "$@"
