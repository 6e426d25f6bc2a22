#!/usr/bin/env bash
# Set-up on a fresh machine: a virtual environment in .venv with the project and its test tools.
# Idempotent; needs Python 3.10-3.12 and access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
echo "set-up done: $(.venv/bin/python -c 'import tensorflow as tf, keras, dvc; print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, DVC {dvc.__version__}")' 2>/dev/null)"
