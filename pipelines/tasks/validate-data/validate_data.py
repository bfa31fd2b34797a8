#!/usr/bin/env python3
"""Validates the training data of a run: schema checks, then a Kolmogorov-Smirnov drift test against the reference
data of the version now in production (when there is one).

Env: WORK (source workspace), MODEL_SRC (the model's directory), DATASET (`builtin:<name>` or `store:<key in the
datasets store>`), MODEL, PRODUCTION_VERSION (empty: no drift test), DRIFT_ALPHA, FAIL_ON_DRIFT (true|false),
MIN_ROWS, RESULT_DATASET_VERSION, RESULT_DRIFT. Writes WORK/data/train.csv for the train task.
"""

import csv
import json
import math
import os
import subprocess
import sys

from mlops_steps.datasets import file_sha256


def schema_problems(header, rows, min_rows):
    """Everything wrong with a training CSV (empty: valid). A pure function."""
    problems = []
    if "target" not in header:
        problems.append("no 'target' column")
    features = [h for h in header if h != "target"]
    if not features:
        problems.append("no feature columns")
    if len(set(header)) != len(header):
        problems.append("duplicate column names")
    if len(rows) < min_rows:
        problems.append(f"{len(rows)} rows, fewer than the minimum {min_rows}")
    bad = 0
    for i, row in enumerate(rows):
        if len(row) != len(header):
            problems.append(f"row {i + 2} has {len(row)} fields, the header {len(header)}")
            continue
        for name, value in zip(header, row, strict=True):
            if name == "target":
                continue
            try:
                if not math.isfinite(float(value)):
                    bad += 1
            except ValueError:
                bad += 1
    if bad:
        problems.append(f"{bad} feature values are empty, non-numeric or not finite")
    if "target" in header and rows:
        t = header.index("target")
        classes = {r[t] for r in rows if len(r) == len(header)}
        if len(classes) < 2:
            problems.append("fewer than two classes in 'target'")
    return problems


def read_csv(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        return header, [r for r in reader if r]


def fetch_dataset(spec, dest, model_src):
    """Writes the dataset to dest and returns its version id."""
    kind, _, name = spec.partition(":")
    if kind == "builtin" and name:
        subprocess.run(
            [sys.executable, os.path.join(model_src, "data.py"), "--dataset", name, "--out", dest], check=True
        )
        return f"builtin-{name}-{file_sha256(dest)[:12]}"
    if kind == "store" and name:
        from mlops_steps import store

        client = store.store_from_env()
        bucket = store.bucket_for("datasets")
        # store:<prefix>/ (what a push or an alert asks for): the newest object under the model's prefix.
        key = store.newest_key(client, bucket, store.normalise_prefix(name)) if name.endswith("/") else name
        print(f"dataset: s3://{bucket}/{key}")
        store.download(client, bucket, key, dest)
        return store.object_version(client, bucket, key)
    raise ValueError(f"DATASET {spec!r} must be builtin:<name>, store:<key> or store:<prefix>/")


def main():
    e = os.environ
    data_dir = os.path.join(e["WORK"], "data")
    os.makedirs(data_dir, exist_ok=True)
    train_csv = os.path.join(data_dir, "train.csv")
    version = fetch_dataset(e["DATASET"], train_csv, e["MODEL_SRC"])
    header, rows = read_csv(train_csv)
    problems = schema_problems(header, rows, int(e.get("MIN_ROWS", "30")))
    if problems:
        print("data validation failed:\n  - " + "\n  - ".join(problems), file=sys.stderr)
        return 1
    print(f"schema ok: {len(rows)} rows, {len(header) - 1} features, dataset version {version}")
    drift = {"drifted": False, "tested": False}
    prod = e.get("PRODUCTION_VERSION", "")
    if prod:
        from mlops_steps import store

        ref = os.path.join(data_dir, "production-reference.csv")
        store.download(
            store.store_from_env(),
            store.bucket_for("models"),
            f"models/{e['MODEL']}/{prod}/@latest/reference.csv",
            ref,
        )
        report = os.path.join(data_dir, "drift.json")
        subprocess.run(
            [
                sys.executable,
                os.path.join(e["MODEL_SRC"], "drift.py"),
                "--reference",
                ref,
                "--data",
                train_csv,
                "--alpha",
                e.get("DRIFT_ALPHA", "0.05"),
                "--bonferroni",
                "--out",
                report,
            ],
            check=True,
        )
        with open(report) as f:
            drift = dict(json.load(f), tested=True)
        print(
            f"drift against {prod}: {'drifted ' + ', '.join(drift['drifted_features']) if drift['drifted'] else 'none'}"
        )
    with open(e["RESULT_DATASET_VERSION"], "w") as f:
        f.write(version)
    with open(e["RESULT_DRIFT"], "w") as f:
        f.write("true" if drift["drifted"] else "false")
    if drift["drifted"] and e.get("FAIL_ON_DRIFT", "false") == "true":
        print("the new data drifted from production's reference and fail-on-drift is set", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
