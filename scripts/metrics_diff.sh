#!/usr/bin/env bash
# Compare the CI-scale metrics of the working tree with those of BASE (a git ref, default main):
# both pipelines run on params.ci.yaml in one scratch repo (BASE committed first, then this
# tree on top), so `dvc metrics diff` can read both from its local cache. Prints markdown.
#   usage: scripts/metrics_diff.sh [BASE] [DEST]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-main}
dest=${2:-$(mktemp -d)/ganflow-diff}
. "$repo/scripts/env.sh"
git_=(git -c user.name=ganflow -c user.email=ganflow@localhost)
mkdir -p "$dest"
# BASE: its committed files, with its params.ci.yaml as params.yaml
(cd "$repo" && git archive "$base") | tar -x -C "$dest"
cd "$dest"
cp params.ci.yaml params.yaml
"${git_[@]}" init -q -b main && "${git_[@]}" add -A && "${git_[@]}" commit -qm base
dvc repro -q && "${git_[@]}" add -A && "${git_[@]}" commit -qm "base results"
# HEAD: this working tree on top
find . -mindepth 1 -maxdepth 1 ! -name .git ! -name .dvc ! -name data ! -name models ! -name reports -exec rm -rf {} +
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) | (cd "$repo" && xargs -0 -r cp --parents -t "$dest")
cp params.ci.yaml params.yaml
"${git_[@]}" add -A && "${git_[@]}" commit -qm head
dvc repro -q && "${git_[@]}" add -A && "${git_[@]}" commit -qm "head results"
dvc metrics diff HEAD~2 HEAD --md
