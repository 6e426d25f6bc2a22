#!/usr/bin/env bash
# The main job: set up, then `dvc repro` with the full params.yaml (extra args go to dvc repro,
# e.g. `scripts/run.sh evaluate@mnist_mlp`). For the reduced scale use scripts/repro_ci.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
dvc repro "$@"
dvc metrics show
