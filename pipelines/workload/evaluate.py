"""Score a trained model on held-out data, write metrics.json, and gate on the result.

    python3 evaluate.py --model-dir DIR [--data holdout.csv] [--out metrics.json]
                        [--threshold 0.9] [--baseline-metrics prod/metrics.json --tolerance 0.02]

The gate fails (exit 1, reasons on stderr and in metrics.json) when accuracy is below --threshold, or below the
baseline's accuracy by more than --tolerance. metrics.json is written in both cases. Exit 2: bad input.
"""

import argparse
import json
import os
import sys

import data as ds
import joblib
import numpy as np
from model_files import HOLDOUT_FILE, METRICS_FILE, MODEL_FILE, PARAMS_FILE
from sklearn.metrics import accuracy_score, f1_score


def score(model_dir, data=None):
    est = joblib.load(os.path.join(model_dir, MODEL_FILE))
    with open(os.path.join(model_dir, PARAMS_FILE)) as f:
        params = json.load(f)
    path = data or os.path.join(model_dir, HOLDOUT_FILE)
    X, y, features = ds.read_csv(path)
    if features != params["features"]:
        raise ValueError(f"{path}: features {features} differ from the model's {params['features']}")
    pred = est.predict(X)
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "f1_macro": float(f1_score(y, pred, average="macro")),
        "f1_weighted": float(f1_score(y, pred, average="weighted")),
        "n": int(len(y)),
        "data": os.path.abspath(path),
        "data_sha256": ds.file_sha256(path),
        "model_dir": os.path.abspath(model_dir),
    }


def gate(accuracy, threshold=0.0, baseline_accuracy=None, tolerance=0.0):
    """Reasons the gate fails (empty list: it passes). A pure function."""
    reasons = []
    if accuracy < threshold:
        reasons.append(f"accuracy {accuracy:.4f} is below the threshold {threshold:.4f}")
    if baseline_accuracy is not None and accuracy < baseline_accuracy - tolerance:
        reasons.append(
            f"accuracy {accuracy:.4f} is worse than the baseline {baseline_accuracy:.4f} "
            f"by {baseline_accuracy - accuracy:.4f}, more than the tolerance {tolerance:.4f}"
        )
    return reasons


def main(argv=None):
    p = argparse.ArgumentParser(description="Evaluate the reference model and gate on accuracy.")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--data", help=f"labelled CSV to score; default: {HOLDOUT_FILE} in --model-dir")
    p.add_argument("--out", help=f"metrics file; default: {METRICS_FILE} in --model-dir")
    p.add_argument("--threshold", type=float, default=0.0, help="minimum accuracy (0-1)")
    p.add_argument("--baseline-metrics", help="metrics.json of the version in production")
    p.add_argument("--tolerance", type=float, default=0.0, help="allowed accuracy drop below the baseline (0-1)")
    a = p.parse_args(argv)
    if not 0 <= a.threshold <= 1:
        p.error("--threshold must be between 0 and 1")
    if not 0 <= a.tolerance <= 1:
        p.error("--tolerance must be between 0 and 1")
    try:
        metrics = score(a.model_dir, a.data)
        baseline = None
        if a.baseline_metrics:
            with open(a.baseline_metrics) as f:
                baseline = float(json.load(f)["accuracy"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"evaluate: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    reasons = gate(metrics["accuracy"], a.threshold, baseline, a.tolerance)
    metrics["gate"] = {
        "passed": not reasons,
        "reasons": reasons,
        "threshold": a.threshold,
        "baseline_accuracy": baseline,
        "tolerance": a.tolerance,
    }
    out = a.out or os.path.join(a.model_dir, METRICS_FILE)
    with open(out, "w") as f:
        json.dump(metrics, f, indent=2, sort_keys=True)
    print(json.dumps({k: metrics[k] for k in ("accuracy", "f1_macro", "n")} | {"passed": not reasons}))
    if reasons:
        for r in reasons:
            print(f"evaluate: gate failed: {r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
