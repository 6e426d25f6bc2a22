#!/usr/bin/env bash
# Make a scratch git+DVC copy of this repo's working tree at DEST, optionally with another
# params file as its params.yaml, committed so that `dvc exp run` works there.
# The repo itself (and its committed params.yaml) is never touched.
#   usage: scripts/scratch_repo.sh DEST [PARAMS_FILE]
set -euo pipefail
dest=${1:?usage: scratch_repo.sh DEST [PARAMS_FILE]}
params=${2:-}
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dest"
# Tracked files plus untracked ones git does not ignore; DVC outputs, .venv, dvc.lock and the
# metrics kept in git beside it (they describe a run with other params and a cache that is not
# here) stay behind.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
   grep -zvE '^dvc\.lock$|^reports/.*/metrics\.json$') |
  (cd "$repo" && xargs -0 -r cp --parents -t "$dest" 2>/dev/null || true)
cd "$dest"
[ -n "$params" ] && cp "$repo/$params" params.yaml
git init -q -b main
git -c user.name=ganflow -c user.email=ganflow@localhost add -A
git -c user.name=ganflow -c user.email=ganflow@localhost commit -qm "scratch copy${params:+ with $params}"
# A scratch copy sends no usage reports and checks for no DVC updates (CI has no network).
printf '[core]\n    analytics = false\n    check_update = false\n' > .dvc/config.local
echo "$dest"
