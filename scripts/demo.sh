#!/usr/bin/env bash
# Runs the platform with Pearl River Delta demo data on the embedded default (a SQLite file,
# ./freight.db): installs uv if missing, syncs the locked dependencies, migrates, seeds, prints
# API keys and URLs, then serves on http://127.0.0.1:8000. Extra arguments go to `freight demo`.
set -euo pipefail
source "$(dirname "$0")/_setup.sh"

sync_dependencies
exec "${UV[@]}" run freight demo "$@"
