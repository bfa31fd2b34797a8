#!/bin/sh
# Trains the model on the validated data into WORK/model and records the training accuracy.
# Env: WORK, MODEL_SRC, MODEL_KIND, SEED, RESULT_TRAIN_ACCURACY.
set -eu
rm -rf "$WORK/model"
python "$MODEL_SRC/train.py" --data "$WORK/data/train.csv" --out "$WORK/model" --model "$MODEL_KIND" --seed "$SEED"
python -c 'import json,sys; print(json.load(open(sys.argv[1]))["train_accuracy"], end="")' "$WORK/model/params.json" > "$RESULT_TRAIN_ACCURACY"
echo "training accuracy $(cat "$RESULT_TRAIN_ACCURACY")"
