#!/usr/bin/env bash
# The whole pipeline on another params file, without editing params.yaml: a scratch git+DVC copy
# of the repo at DEST whose params.yaml is PARAMS_FILE, then `dvc repro` there (extra args go to
# dvc repro, e.g. a stage name). Its results stay in DEST (dvc exp show / plots show there).
#   usage: scripts/repro_params.sh PARAMS_FILE [DEST [DVC_REPRO_ARGS...]]
#   e.g.   scripts/repro_params.sh params.tutorial.yaml ~/ganflow-tutorial    (the tutorials' scale)
set -euo pipefail
params=${1:?usage: repro_params.sh PARAMS_FILE [DEST [DVC_REPRO_ARGS...]]}
repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${2:-$(mktemp -d)/ganflow-$(basename "$params" .yaml)}
shift $(( $# < 2 ? $# : 2 ))
[ -f "$repo/$params" ] || { echo "error: $params: no such params file in $repo" >&2; exit 2; }
[ -x "$repo/.venv/bin/dvc" ] || bash "$repo/scripts/setup.sh"
. "$repo/scripts/env.sh"
"$repo/scripts/scratch_repo.sh" "$dest" "$params" >/dev/null
cd "$dest"
start=$(date +%s)
dvc repro "$@"
echo "pipeline wall time: $(( $(date +%s) - start ))s (in $dest)"
dvc metrics show
dvc status
