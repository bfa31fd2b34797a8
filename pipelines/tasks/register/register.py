#!/usr/bin/env python3
"""Registers a trained model: an immutable upload of WORK/model to models/<model>/<version>/<build>/ with a model card.

Env: WORK, MODEL, VERSION, COMMIT, GIT_URL, DATASET_VERSION, PIPELINE_RUN, MODE, STARTED_AT, RESULT_URI, RESULT_BUILD.
Each registration is a new build of the version slot (id: UTC time and commit); the upload refuses a build prefix
that already exists (artifacts are immutable; the store keeps no delete right).
"""

import json
import os
import sys
import time


def model_card(model_dir, env, now=None):
    """The model card: what was trained, from what, how well, when and by which run. A pure function of its inputs."""
    with open(os.path.join(model_dir, "params.json")) as f:
        params = json.load(f)
    with open(os.path.join(model_dir, "metrics.json")) as f:
        metrics = json.load(f)
    now = time.time() if now is None else now
    started = env.get("STARTED_AT", "")
    return {
        "model": env["MODEL"],
        "version": env["VERSION"],
        "source": {"git_url": env.get("GIT_URL", ""), "git_commit": env["COMMIT"]},
        "dataset": {"version": env["DATASET_VERSION"], "source": params.get("data")},
        "parameters": {
            k: params[k]
            for k in ("model", "hyperparameters", "seed", "test_size", "features", "classes")
            if k in params
        },
        "metrics": {
            "train_accuracy": params.get("train_accuracy"),
            **{k: metrics[k] for k in ("accuracy", "f1_macro", "f1_weighted", "n") if k in metrics},
        },
        "timestamps": {
            "run_started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(started)))
            if started.isdigit()
            else None,
            "trained": params.get("trained_at"),
            "registered": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        },
        "pipeline_run": env.get("PIPELINE_RUN", ""),
        "delivery_mode": env.get("MODE", ""),
        "runtime": params.get("versions", {}),
    }


def main():
    from mlops_steps import store

    e = os.environ
    model_dir = os.path.join(e["WORK"], "model")
    build = store.build_id(e.get("COMMIT", ""))
    card = {**model_card(model_dir, e), "build": build}
    with open(os.path.join(model_dir, "model-card.json"), "w") as f:
        json.dump(card, f, indent=2, sort_keys=True)
    prefix = f"models/{e['MODEL']}/{e['VERSION']}/{build}/"
    bucket = store.bucket_for("models")
    try:
        keys = store.upload_dir(store.store_from_env(), bucket, model_dir, prefix, immutable=True)
    except store.StoreError as err:
        print(f"register: {err}", file=sys.stderr)
        return 1
    print("\n".join(keys))
    with open(e["RESULT_URI"], "w") as f:
        f.write(f"s3://{bucket}/{prefix}")
    if e.get("RESULT_BUILD"):
        with open(e["RESULT_BUILD"], "w") as f:
            f.write(build)
    return 0


if __name__ == "__main__":
    sys.exit(main())
