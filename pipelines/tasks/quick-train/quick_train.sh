#!/bin/sh
# The simplified delivery's one training stage: train on the built-in or given data and upload the model, with no
# validation and no evaluation gate (the upload is a new immutable build of the version: nothing is overwritten).
# Env: WORK, MODEL_SRC, LIB, DATASET_NAME, MODEL, VERSION, RESULT_TRAIN_ACCURACY.
set -eu
mkdir -p "$WORK/data"
python "$MODEL_SRC/data.py" --dataset "$DATASET_NAME" --out "$WORK/data/train.csv"
rm -rf "$WORK/model"
python "$MODEL_SRC/train.py" --data "$WORK/data/train.csv" --out "$WORK/model"
python "$MODEL_SRC/evaluate.py" --model-dir "$WORK/model"
python -c 'import json,sys; print(json.load(open(sys.argv[1]))["train_accuracy"], end="")' "$WORK/model/params.json" > "$RESULT_TRAIN_ACCURACY"
python -m mlops_steps.store upload models "$WORK/model" "models/$MODEL/$VERSION/$(date -u +%Y%m%dT%H%M%SZ)-quick/" --immutable
