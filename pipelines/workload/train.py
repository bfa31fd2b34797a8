"""Train the reference model and write it, its parameters and the reference data to an output directory.

    python3 train.py --out DIR [--data train.csv | --dataset iris] [--model logreg|rf] [--seed 42]

Writes to DIR:
  model.joblib          the fitted scikit-learn estimator
  params.json           model type, hyper-parameters, seed, features, classes, data source and its sha256
  reference.csv         the training split (features + target): the reference sample for drift tests
  reference_stats.json  per-feature statistics of the reference sample
  holdout.csv           the held-out split that evaluate.py scores by default
The same inputs and seed give the same split and the same model.
"""

import argparse
import json
import os
import sys
import time

import data as ds
import joblib
import numpy as np
import sklearn
from model_files import HOLDOUT_FILE, MODEL_FILE, PARAMS_FILE, REFERENCE_FILE, REFERENCE_STATS_FILE
from sklearn.model_selection import train_test_split


def build_model(kind, seed, c=1.0, n_estimators=100, max_depth=None):
    # Each kind imports only its own estimators: the forest's module alone costs about 0.2 s of start-up.
    if kind == "logreg":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        hyper = {"C": c, "max_iter": 1000}
        est = make_pipeline(StandardScaler(), LogisticRegression(random_state=seed, **hyper))
    elif kind == "rf":
        from sklearn.ensemble import RandomForestClassifier

        hyper = {"n_estimators": n_estimators, "max_depth": max_depth}
        est = RandomForestClassifier(random_state=seed, n_jobs=1, **hyper)
    else:
        raise ValueError(f"unknown model {kind!r}")
    return est, hyper


def train(
    out, data=None, dataset="iris", model="logreg", seed=42, test_size=0.25, c=1.0, n_estimators=100, max_depth=None
):
    """Train and write the artefacts; returns the params dict."""
    started = time.time()
    if data:
        X, y, features = ds.read_csv(data)
        source = {"kind": "csv", "path": os.path.abspath(data), "sha256": ds.file_sha256(data)}
    else:
        X, y, features = ds.load_builtin(dataset)
        source = {"kind": "sklearn", "name": dataset, "sklearn_version": sklearn.__version__}
    if len(np.unique(y)) < 2:
        raise ValueError("the data has fewer than two classes")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    est, hyper = build_model(model, seed, c=c, n_estimators=n_estimators, max_depth=max_depth)
    est.fit(X_tr, y_tr)
    train_accuracy = float((est.predict(X_tr) == y_tr).mean())

    os.makedirs(out, exist_ok=True)
    joblib.dump(est, os.path.join(out, MODEL_FILE))
    ds.write_csv(os.path.join(out, REFERENCE_FILE), X_tr, y_tr, features)
    ds.write_csv(os.path.join(out, HOLDOUT_FILE), X_te, y_te, features)
    with open(os.path.join(out, REFERENCE_STATS_FILE), "w") as f:
        json.dump(ds.feature_stats(X_tr, features), f, indent=2, sort_keys=True)
    params = {
        "model": model,
        "hyperparameters": hyper,
        "seed": seed,
        "test_size": test_size,
        "features": features,
        "classes": [ds._plain(v) for v in np.unique(y)],
        "data": source,
        "n_train": int(len(X_tr)),
        "n_holdout": int(len(X_te)),
        "train_accuracy": train_accuracy,
        "versions": {"python": sys.version.split()[0], "sklearn": sklearn.__version__, "numpy": np.__version__},
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_seconds": round(time.time() - started, 3),
    }
    with open(os.path.join(out, PARAMS_FILE), "w") as f:
        json.dump(params, f, indent=2, sort_keys=True)
    return params


def main(argv=None):
    p = argparse.ArgumentParser(description="Train the reference model.")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--data", help="training CSV (features + 'target'); default: the built-in --dataset")
    p.add_argument("--dataset", default="iris", choices=ds.BUILTIN)
    p.add_argument("--model", default="logreg", choices=("logreg", "rf"))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--test-size", type=float, default=0.25)
    p.add_argument("--C", dest="c", type=float, default=1.0, help="inverse regularisation (logreg)")
    p.add_argument("--n-estimators", type=int, default=100, help="trees (rf)")
    p.add_argument("--max-depth", type=int, default=None, help="tree depth (rf)")
    a = p.parse_args(argv)
    if not 0 < a.test_size < 1:
        p.error("--test-size must be between 0 and 1")
    try:
        params = train(
            a.out,
            data=a.data,
            dataset=a.dataset,
            model=a.model,
            seed=a.seed,
            test_size=a.test_size,
            c=a.c,
            n_estimators=a.n_estimators,
            max_depth=a.max_depth,
        )
    except (OSError, ValueError) as e:
        print(f"train: error: {e}", file=sys.stderr)
        return 2
    print(
        json.dumps(
            {
                "out": a.out,
                "model": params["model"],
                "train_accuracy": params["train_accuracy"],
                "n_train": params["n_train"],
                "n_holdout": params["n_holdout"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
