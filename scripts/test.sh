#!/usr/bin/env bash
# Set up, then run the whole test suite (unit tests, then the end-to-end DVC pipeline tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup_browser.sh
. scripts/env.sh
python -m pytest "$@"
