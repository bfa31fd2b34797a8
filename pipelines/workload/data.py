"""Datasets of the reference workload: a dataset that ships with scikit-learn, or a CSV with the same shape.

CSV format: a header row, one numeric column per feature, and the label in a column named ``target``.
The CLI exports a built-in dataset to CSV, optionally with a feature shifted, to feed changed data in:

    python3 data.py --dataset iris --out iris.csv [--shift petal_length_cm=2.5] [--sample 100 --seed 1]
"""

import argparse
import csv
import hashlib
import json
import re
import sys

import numpy as np

TARGET = "target"
BUILTIN = ("iris", "wine", "breast_cancer")


def _snake(name):
    return re.sub(r"_+", "_", re.sub(r"[^0-9a-zA-Z]+", "_", name)).strip("_").lower()


def load_builtin(name):
    """(X, y, feature_names) of a dataset bundled with scikit-learn; nothing is downloaded."""
    from sklearn import datasets

    loaders = {"iris": datasets.load_iris, "wine": datasets.load_wine, "breast_cancer": datasets.load_breast_cancer}
    if name not in loaders:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(BUILTIN)}")
    bunch = loaders[name]()
    return np.asarray(bunch.data, dtype=float), np.asarray(bunch.target), [_snake(f) for f in bunch.feature_names]


def read_csv(path, require_target=True):
    """(X, y or None, feature_names) from a CSV with a header; the label column is ``target``."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ValueError(f"{path}: empty file") from None
        rows = [r for r in reader if r]
    if require_target and TARGET not in header:
        raise ValueError(f"{path}: no {TARGET!r} column in header {header}")
    features = [h for h in header if h != TARGET]
    if not features:
        raise ValueError(f"{path}: no feature columns")
    if not rows:
        raise ValueError(f"{path}: no data rows")
    idx = [header.index(h) for h in features]
    try:
        X = np.array([[float(r[i]) for i in idx] for r in rows], dtype=float)
    except (ValueError, IndexError) as e:
        raise ValueError(f"{path}: non-numeric or missing feature value ({e})") from None
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{path}: NaN or infinite feature values")
    y = None
    if TARGET in header:
        t = header.index(TARGET)
        y = np.array([_label(r[t]) for r in rows])
    return X, y, features


def _label(v):
    v = v.strip()
    try:
        f = float(v)
        return int(f) if f.is_integer() else v
    except ValueError:
        return v


def write_csv(path, X, y, features):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(features) + ([TARGET] if y is not None else []))
        for i, row in enumerate(X):
            w.writerow([repr(float(v)) for v in row] + ([_plain(y[i])] if y is not None else []))


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def file_sha256(path):
    """Hex SHA-256 of a file. The model's own copy of mlops_steps.datasets.file_sha256: a model directory runs
    without the testbed's step library (the serving image holds only the model), so it cannot import it."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def feature_stats(X, features):
    """Per-feature summary statistics of a sample (the reference for later drift checks)."""
    out = {}
    for j, name in enumerate(features):
        col = X[:, j]
        q = np.quantile(col, [0.05, 0.25, 0.5, 0.75, 0.95])
        out[name] = {
            "count": int(col.size),
            "mean": float(col.mean()),
            "std": float(col.std(ddof=1)) if col.size > 1 else 0.0,
            "min": float(col.min()),
            "max": float(col.max()),
            "quantiles": {
                "p05": float(q[0]),
                "p25": float(q[1]),
                "p50": float(q[2]),
                "p75": float(q[3]),
                "p95": float(q[4]),
            },
        }
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description="Export a scikit-learn bundled dataset to CSV (optionally changed).")
    p.add_argument("--dataset", default="iris", choices=BUILTIN)
    p.add_argument("--out", required=True, help="CSV file to write")
    p.add_argument(
        "--shift",
        action="append",
        default=[],
        metavar="FEATURE=DELTA",
        help="add DELTA to every value of FEATURE (repeatable), to simulate drift",
    )
    p.add_argument("--sample", type=int, default=0, help="keep a random sample of N rows (0 = all)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    X, y, features = load_builtin(a.dataset)
    if a.sample:
        idx = np.random.default_rng(a.seed).choice(len(X), size=min(a.sample, len(X)), replace=False)
        X, y = X[idx], y[idx]
    for s in a.shift:
        name, _, delta = s.partition("=")
        if name not in features:
            p.error(f"--shift: unknown feature {name!r}; features: {', '.join(features)}")
        X[:, features.index(name)] += float(delta)
    write_csv(a.out, X, y, features)
    print(json.dumps({"out": a.out, "rows": len(X), "features": features}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
