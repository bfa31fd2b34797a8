#!/bin/sh
# Checks that the step runtime (the image built once at install time, pipelines/core/runtime.ts) has every package the
# model's source pins: the steps install nothing inside the run; a pin the runtime lacks fails here, naming it.
# Env: DEST, SOURCE_DIR (the model's directory in the repository).
set -eu
req="$DEST/repo/$SOURCE_DIR/requirements.txt"
if [ ! -f "$req" ]; then
  echo "no $SOURCE_DIR/requirements.txt in the source: the model's directory must pin its Python packages" >&2
  exit 1
fi
exec python -m mlops_steps.runtime "$req"
