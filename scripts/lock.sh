#!/usr/bin/env bash
# Regenerate requirements.lock: exact versions with sha256 hashes of everything `scripts/setup.sh`
# installs (the project's dependencies and its dev extra, for CPython 3.11 on Linux x86-64),
# resolved by uv from pyproject.toml's ranges. uv keeps the versions already in the lock unless
# told otherwise:
#   bash scripts/lock.sh                       # after editing pyproject.toml: add what is new
#   bash scripts/lock.sh --upgrade             # newest versions the ranges allow
#   bash scripts/lock.sh --upgrade-package keras
# Then run the tests (and re-measure: other kernels may change results in the last bits).
set -euo pipefail
cd "$(dirname "$0")/.."
uv=$(command -v uv || true)
if [ -z "$uv" ]; then
    tools=$(mktemp -d)
    python3 -m venv "$tools" && "$tools/bin/pip" install --quiet uv
    uv=$tools/bin/uv
fi
"$uv" pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
    --python-platform x86_64-unknown-linux-gnu --no-annotate \
    --custom-compile-command "bash scripts/lock.sh" -o requirements.lock "$@"
