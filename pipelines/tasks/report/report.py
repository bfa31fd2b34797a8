#!/usr/bin/env python3
"""Pushes what a delivery run measured to the Pushgateway (metric names from the contract, via the environment).

EVENT train:    training and evaluation accuracy, dataset info.
EVENT deploy:   delivery result (1 when the run succeeded), and on success the deploy lead time: now minus
                TRIGGER_TIME (Unix seconds or RFC 3339, set by whatever started the run) or, without one, STARTED_AT.
                Accuracies and dataset info too when the run trained.
EVENT rollback: last-rollback timestamp of FROM_VERSION, and the delivery result of VERSION, with the time to
                recover (now minus TRIGGER_TIME or STARTED_AT) on success.
Deploy and rollback runs are runs of a standardized study task (STUDY_TASK, contract/study-tasks.ts): their delivery
group carries the contract's run labels (task, run = RUN, the PipelineRun's name), so runs never overwrite each
other, and adds the run's end time and its rollbacks; `npm run report` counts and compares runs by these.

Env: EVENT, STATUS (Tekton's $(tasks.status): Succeeded, Completed, Failed, None), MODEL, VERSION, FROM_VERSION,
MODE, STUDY_TASK, RUN, TRIGGER_TIME, STARTED_AT, TRAIN_ACCURACY, EVAL_ACCURACY, DATASET_VERSION, PUSHGATEWAY_URL.
"""

import datetime
import os
import sys

from mlops_steps import metrics

OK = ("Succeeded", "Completed")


def _num(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _time(text):
    """Unix seconds from Unix seconds or an RFC 3339 time (what the triggers bind: 2026-11-23T10:15:40+01:00, ...Z)."""
    seconds = _num(text)
    if seconds is not None or not text:
        return seconds
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def samples(env, now):
    """[(grouping, [(name, labels, value)])] to push. A pure function of the environment and the time."""
    model, version, mode, event = env["MODEL"], env["VERSION"], env["MODE"], env["EVENT"]
    ok = env.get("STATUS", "") in OK
    ns = lambda v: {"namespace": f"{model}-{v}"}  # noqa: E731
    group = lambda v, part: [("model", model), ("version", v), ("mode", mode), ("part", part)]  # noqa: E731
    out = []
    train_acc, eval_acc, dataset = (
        _num(env.get("TRAIN_ACCURACY")),
        _num(env.get("EVAL_ACCURACY")),
        env.get("DATASET_VERSION", ""),
    )
    if event in ("train", "deploy") and dataset and eval_acc is not None:
        d = {**ns(version), "dataset_version": dataset}
        s = [
            (metrics.metric_name("evaluationAccuracy", env), d, eval_acc),
            (metrics.metric_name("datasetInfo", env), d, 1),
        ]
        if train_acc is not None:
            s.insert(0, (metrics.metric_name("trainingAccuracy", env), d, train_acc))
        out.append((group(version, "training"), s))
    if event in ("deploy", "rollback"):
        name = lambda key: metrics.metric_name(key, env)  # noqa: E731
        start = _time(env.get("TRIGGER_TIME")) or _num(env.get("STARTED_AT"))
        rolled_back = event == "rollback" and ok
        s = [(name("deliveryResult"), ns(version), 1 if ok else 0)]
        if event == "deploy" and ok and start is not None:
            s.append((name("deployLeadTime"), ns(version), max(0.0, now - start)))
        if rolled_back and start is not None:
            s.append((name("recoveryTime"), ns(version), max(0.0, now - start)))
        s += [
            (name("deliveryRollbacks"), ns(version), 1 if rolled_back else 0),
            (name("deliveryEnd"), ns(version), now),
        ]
        run = [("task", env["STUDY_TASK"]), ("run", env["RUN"])]
        out.append((run + group(version, "delivery"), s))
    if event == "rollback" and ok and env.get("FROM_VERSION"):
        out.append(
            (
                group(env["FROM_VERSION"], "rollback"),
                [(metrics.metric_name("lastRollback", env), ns(env["FROM_VERSION"]), now)],
            )
        )
    return out


def main():
    e = os.environ
    for grouping, s in samples(e, metrics.now()):
        metrics.push(e["PUSHGATEWAY_URL"], grouping, s)
        print(f"pushed {len(s)} samples for {dict(grouping)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
