#!/usr/bin/env bash
# Set-up on a fresh machine: a virtual environment in .venv with the project and its test tools.
# Idempotent; needs Python 3.10-3.12 and access to PyPI. On CPython 3.11 (what the results were
# measured with) every package comes from requirements.lock: exact versions, sha256-checked
# (scripts/lock.sh updates it); on another Python, from pyproject.toml's ranges, with a warning.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "$(.venv/bin/python -c 'import sys; print(sys.version_info[:2] == (3, 11))')" = True ]; then
    .venv/bin/python -m pip install --quiet --require-hashes -r requirements.lock
    .venv/bin/python -m pip install --quiet --no-deps -e .
else
    echo "set-up: not Python 3.11, so not the locked versions (requirements.lock): results may differ in the last bits" >&2
    .venv/bin/python -m pip install --quiet -e ".[dev]"
fi
echo "set-up done: $(.venv/bin/python -c 'import tensorflow as tf, keras, dvc; print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, DVC {dvc.__version__}")' 2>/dev/null)"
