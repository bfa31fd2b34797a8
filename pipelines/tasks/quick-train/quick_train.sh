#!/bin/sh
# The simplified delivery's one training stage: train on the built-in or given data and upload the model, with no
# validation and no evaluation gate (the upload is a new immutable build of the version: nothing is overwritten).
# It scores the model on its holdout all the same (no gate): that accuracy and the data's version are its results,
# which the run reports as the simplified delivery's evaluation accuracy.
# Env: WORK, MODEL_SRC, LIB, DATASET_NAME, MODEL, VERSION, RESULT_TRAIN_ACCURACY, RESULT_ACCURACY,
# RESULT_DATASET_VERSION.
set -eu
mkdir -p "$WORK/data"
python "$MODEL_SRC/data.py" --dataset "$DATASET_NAME" --out "$WORK/data/train.csv"
rm -rf "$WORK/model"
python "$MODEL_SRC/train.py" --data "$WORK/data/train.csv" --out "$WORK/model"
python "$MODEL_SRC/evaluate.py" --model-dir "$WORK/model"
python -c 'import json,sys; print(json.load(open(sys.argv[1]))["train_accuracy"], end="")' "$WORK/model/params.json" > "$RESULT_TRAIN_ACCURACY"
python -c 'import json,sys; print(json.load(open(sys.argv[1]))["accuracy"], end="")' "$WORK/model/metrics.json" > "$RESULT_ACCURACY"
# The dataset version as validate-data names builtin data: builtin-<name>-<first 12 hex of the file's SHA-256>.
python -c 'import sys; from mlops_steps.datasets import file_sha256; print(f"builtin-{sys.argv[1]}-{file_sha256(sys.argv[2])[:12]}", end="")' \
    "$DATASET_NAME" "$WORK/data/train.csv" > "$RESULT_DATASET_VERSION"
python -m mlops_steps.store upload models "$WORK/model" "models/$MODEL/$VERSION/$(date -u +%Y%m%dT%H%M%SZ)-quick/" --immutable
