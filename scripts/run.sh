#!/usr/bin/env bash
# The main job: set up, then `dvc repro` with params.yaml (extra args go to dvc repro, e.g.
# `scripts/run.sh evaluate@mnist_mlp`), timing each stage (reports/run.json), then each GAN's
# headline figures beside target and floor. For the reduced scale use scripts/repro_ci.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
ganflow repro "$@"
ganflow results
