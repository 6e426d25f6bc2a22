# Sourced by the run scripts: activate .venv and point the data mirror at ../shared/data when
# that folder exists and GANFLOW_DATA_MIRROR is not already set.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC1091
. "$root/.venv/bin/activate"
if [ -z "${GANFLOW_DATA_MIRROR:-}" ] && [ -f "$root/../shared/data/mnist.npz" ]; then
  export GANFLOW_DATA_MIRROR=$(cd "$root/../shared/data" && pwd)
fi
