#!/usr/bin/env bash
# The whole pipeline, all five GANs, at the reduced scale of params.ci.yaml (minutes on 2 CPU
# cores), in a scratch copy of the repo so the committed params.yaml stays as it is.
#   usage: scripts/repro_ci.sh [DEST]     (default DEST: a new temporary directory)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$(mktemp -d)/ganflow-ci}
[ -x "$repo/.venv/bin/dvc" ] || bash "$repo/scripts/setup.sh"
. "$repo/scripts/env.sh"
"$repo/scripts/scratch_repo.sh" "$dest" params.ci.yaml >/dev/null
cd "$dest"
start=$(date +%s)
dvc repro
echo "pipeline wall time: $(( $(date +%s) - start ))s (in $dest)"
dvc metrics show
dvc status
