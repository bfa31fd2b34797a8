#!/bin/sh
# Scores the trained model on its holdout set and applies the gate: fails when accuracy is under THRESHOLD, or
# worse than the production version's by more than TOLERANCE (when a production version is named).
# Env: WORK, MODEL_SRC, LIB, MODEL, PRODUCTION_VERSION, THRESHOLD, TOLERANCE, RESULT_ACCURACY.
set -eu
baseline=""
if [ -n "$PRODUCTION_VERSION" ]; then
  python -m mlops_steps.store download models "models/$MODEL/$PRODUCTION_VERSION/@latest/metrics.json" "$WORK/data/production-metrics.json"
  baseline="--baseline-metrics $WORK/data/production-metrics.json --tolerance $TOLERANCE"
fi
status=0
# shellcheck disable=SC2086 # baseline is two options or nothing
python "$MODEL_SRC/evaluate.py" --model-dir "$WORK/model" --threshold "$THRESHOLD" $baseline || status=$?
python -c 'import json,sys; print(json.load(open(sys.argv[1]))["accuracy"], end="")' "$WORK/model/metrics.json" > "$RESULT_ACCURACY"
echo "evaluation accuracy $(cat "$RESULT_ACCURACY")"
exit "$status"
