#!/bin/sh
# Installs the pinned Python packages of the pipeline library and of the model's source into the workspace, so
# later steps (same pinned Python image) import them from $DEST/.deps.
# Env: DEST, SOURCE_DIR (the model's directory in the repository), LIB (pipeline library path).
set -eu
req="$DEST/repo/$SOURCE_DIR/requirements.txt"
if [ ! -f "$req" ]; then
  echo "no $SOURCE_DIR/requirements.txt in the source: the model's directory must pin its Python packages" >&2
  exit 1
fi
python -m pip install --quiet --no-cache-dir --disable-pip-version-check --target "$DEST/.deps" -r "$LIB/requirements.txt" -r "$req"
