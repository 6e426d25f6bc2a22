#!/usr/bin/env bash
# The whole pipeline, all five GANs, at the reduced scale of params.ci.yaml (minutes on 2 CPU
# cores), in a scratch copy of the repo so the committed params.yaml stays as it is.
#   usage: scripts/repro_ci.sh [DEST]     (default DEST: a new temporary directory)
set -euo pipefail
exec bash "$(dirname "$0")/repro_params.sh" params.ci.yaml "$@"
