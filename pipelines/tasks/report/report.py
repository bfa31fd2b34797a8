#!/usr/bin/env python3
"""Pushes what a delivery run measured to the Pushgateway (metric names from the contract, via the environment).

EVENT train:    training and evaluation accuracy and dataset info of VERSION, in the group part=training (the
                `report-training` finally task of the pipelines that train; it never touches the delivery group).
EVENT deploy:   the run's delivery group (part=delivery): result (1 when the run succeeded), on success the lead time
                (now minus the start event), the rollbacks its promotion performed, the resources its steps used, the
                human actions and hands-on time, the end time. For a study task that recovers (RECOVERING_TASKS), a run
                whose promotion rolled back has recovered: result 1 and the time to recover (rollback minus start).
EVENT rollback: the delivery group of VERSION with the rollback counted and, on success, the time to recover and the
                lead time (now minus the start event); the last-rollback timestamp of FROM_VERSION.

The start event is TRIGGER_TIME (Unix seconds or RFC 3339: the push, the new data, the alert) or else STARTED_AT or
else the run's start: the earliest step start of its TaskRuns. The resources are the sums of the per-TaskRun usage
every step's usage wrapper pushed (pipelines/lib/step_usage.sh), read back from the Pushgateway by the run's name.
A promotion rolled back in this run when PROMOTE_STATUS is Failed and the promote step pushed a last-rollback time
for VERSION at or after the run's start.

Every group carries the contract's run labels (task = STUDY_TASK, run = RUN, the PipelineRun's name), so runs never
overwrite each other; the samples carry `concurrency` (CONCURRENCY: deliveries started at once, this one included).

Env: EVENT, STATUS (Tekton's $(tasks.status): Succeeded, Completed, Failed, None), MODEL, VERSION, FROM_VERSION,
MODE, STUDY_TASK, RUN (empty: MLOPS_PIPELINE_RUN), TRIGGER_TIME, STARTED_AT, PROMOTE_STATUS, TRAIN_ACCURACY,
EVAL_ACCURACY, DATASET_VERSION, HUMAN_ACTIONS, HANDS_ON_SECONDS, CONCURRENCY, RECOVERING_TASKS (JSON list),
PUSHGATEWAY_URL.
"""

import datetime
import json
import os
import sys
import urllib.request

from mlops_steps import metrics

OK = ("Succeeded", "Completed")
#: The per-TaskRun usage the wrapper pushes, and the delivery metric each sums into.
USAGE = {
    "taskrunCpuSeconds": "deliveryCpuSeconds",
    "taskrunGpuSeconds": "deliveryGpuSeconds",
    "taskrunMemoryByteSeconds": "deliveryMemoryByteSeconds",
}


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


def run_usage(groups, run, env):
    """What the TaskRuns of `run` used, from the Pushgateway's groups (its /api/v1/metrics `data`): a dict with the
    summed delivery metrics by contract key and `start`, the earliest TaskRun start (None without any). The run's
    finally tasks that measure it (MEASURING_TASKS: this report and report-training, which run side by side) are left
    out: the delivery is what they measure, and whether report-training had pushed by now would be a race. Pure."""
    name = lambda key: metrics.metric_name(key, env)  # noqa: E731
    measuring = set(json.loads(env.get("MEASURING_TASKS") or "[]"))
    sums = {key: 0.0 for key in USAGE.values()}
    start = None
    found = False
    for g in groups:
        labels = g.get("labels") or {}
        if labels.get("job") != metrics.JOB or labels.get("run") != run or labels.get("pipeline_task") in measuring:
            continue
        for key, delivery in USAGE.items():
            for sample in (g.get(name(key)) or {}).get("metrics") or []:
                value = _num(sample.get("value"))
                if value is not None:
                    sums[delivery] += value
                    found = True
        for sample in (g.get(name("taskrunStart")) or {}).get("metrics") or []:
            value = _num(sample.get("value"))
            if value is not None and (start is None or value < start):
                start = value
    return {"sums": sums if found else None, "start": start}


def last_rollback(groups, env):
    """The last-rollback time the promote step pushed for VERSION (job promotion, the model, version and mode), or
    None."""
    want = {"job": "promotion", "model": env["MODEL"], "version": env["VERSION"], "mode": env["MODE"]}
    name = metrics.metric_name("lastRollback", env)
    times = [
        _num(sample.get("value"))
        for g in groups
        if all((g.get("labels") or {}).get(k) == v for k, v in want.items())
        for sample in (g.get(name) or {}).get("metrics") or []
    ]
    times = [t for t in times if t is not None]
    return max(times) if times else None


def samples(env, now, groups=()):
    """[(grouping, [(name, labels, value)])] to push. A pure function of the environment, the time and the
    Pushgateway's groups (for the run's resources, its start and its promotion's rollback)."""
    model, version, mode, event = env["MODEL"], env["VERSION"], env["MODE"], env["EVENT"]
    ok = env.get("STATUS", "") in OK
    ns = lambda v: {"namespace": f"{model}-{v}"}  # noqa: E731
    group = lambda v, part: [("model", model), ("version", v), ("mode", mode), ("part", part)]  # noqa: E731
    name = lambda key: metrics.metric_name(key, env)  # noqa: E731
    out = []
    if event == "train":
        train_acc, eval_acc = _num(env.get("TRAIN_ACCURACY")), _num(env.get("EVAL_ACCURACY"))
        dataset = env.get("DATASET_VERSION", "")
        if dataset and eval_acc is not None:
            d = {**ns(version), "dataset_version": dataset}
            s = [(name("evaluationAccuracy"), d, eval_acc), (name("datasetInfo"), d, 1)]
            if train_acc is not None:
                s.insert(0, (name("trainingAccuracy"), d, train_acc))
            out.append((group(version, "training"), s))
        return out
    run = env.get("RUN") or env.get("MLOPS_PIPELINE_RUN", "")
    usage = run_usage(groups, run, env)
    start = _time(env.get("TRIGGER_TIME")) or _num(env.get("STARTED_AT")) or usage["start"]
    recovering = env.get("STUDY_TASK", "") in json.loads(env.get("RECOVERING_TASKS") or "[]")
    labels = {**ns(version), "concurrency": env.get("CONCURRENCY") or "1"}
    s = []
    if event == "rollback":
        rollbacks = 1 if ok else 0
        result = 1 if ok else 0
        recovered_at = now if ok else None
    else:
        rolled_back_at = last_rollback(groups, env) if env.get("PROMOTE_STATUS") == "Failed" else None
        if rolled_back_at is not None and (usage["start"] or start or 0) > rolled_back_at:
            rolled_back_at = None  # an earlier run's rollback
        rollbacks = 1 if rolled_back_at is not None else 0
        # A recovering task ends when a good version serves again: the rollback itself.
        result = 1 if ok or (recovering and rolled_back_at is not None) else 0
        recovered_at = rolled_back_at if recovering else None
    s.append((name("deliveryResult"), labels, result))
    if result and start is not None:
        end = recovered_at if recovered_at is not None else now
        s.append((name("deployLeadTime"), labels, max(0.0, end - start)))
    if recovered_at is not None and start is not None:
        s.append((name("recoveryTime"), labels, max(0.0, recovered_at - start)))
    s.append((name("deliveryRollbacks"), labels, rollbacks))
    if usage["sums"] is not None:
        s += [(name(key), labels, value) for key, value in usage["sums"].items()]
    actions = _num(env.get("HUMAN_ACTIONS"))
    if actions is not None:
        s.append((name("deliveryHumanActions"), labels, actions))
    hands_on = _num(env.get("HANDS_ON_SECONDS"))
    if hands_on is not None:
        s.append((name("deliveryHandsOnSeconds"), labels, hands_on))
    s.append((name("deliveryEnd"), labels, now))
    out.append(([("task", env["STUDY_TASK"]), ("run", run)] + group(version, "delivery"), s))
    if event == "rollback" and ok and env.get("FROM_VERSION"):
        out.append(
            (
                group(env["FROM_VERSION"], "rollback"),
                [(name("lastRollback"), ns(env["FROM_VERSION"]), now)],
            )
        )
    return out


def pushgateway_groups(base_url, timeout=10):
    """Every group the Pushgateway holds (its /api/v1/metrics), or [] when it cannot say: the run is then reported
    without its resources rather than not at all."""
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/api/v1/metrics", timeout=timeout) as resp:
            return json.load(resp).get("data") or []
    except (OSError, ValueError) as err:
        print(f"report: cannot read the Pushgateway's groups ({err}); resources not reported", file=sys.stderr)
        return []


def main():
    e = os.environ
    groups = pushgateway_groups(e["PUSHGATEWAY_URL"]) if e["EVENT"] != "train" else []
    for grouping, s in samples(e, metrics.now(), groups):
        metrics.push(e["PUSHGATEWAY_URL"], grouping, s)
        print(f"pushed {len(s)} samples for {dict(grouping)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
