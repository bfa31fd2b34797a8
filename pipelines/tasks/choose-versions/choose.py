#!/usr/bin/env python3
"""Chooses, from a model's HTTPRoute (in the gateway namespace; its name is the model's entry in MODEL_ROUTES, from
the pipelines' settings), which version a delivery deploys into and how traffic moves to it. Version namespaces come
from the stack's config (Pulumi creates them; the deployer cannot), so a retrain reuses a configured version: the
standby slot.

- candidate: the VERSION asked for, or else the configured version with the least live traffic (a mirrored shadow
  counts as 0; ties go to the first on the route, never to the baseline);
- baseline: among the other versions, the one serving most live traffic; none when no other version serves (a
  model with one version, or a redeploy of the version that serves everything);
- strategy: STRATEGY, or else the model's configured traffic.strategy (the route's mlops-testbed/traffic-strategy);
- rollout: `progressive` (the promote task: canary, blue-green, shadow), `switch` (strategy single: the route task
  sends all traffic to the candidate at once), or `in-place` (no baseline: the candidate already has all the
  traffic it will get, nothing to move).

Every result is written before anything can fail (the Task's first step runs this script with RESULTS_ONLY=1, before
the client is installed): Tekton skips a `finally` task whose referenced result was never written, so without them a
failed run would report nothing. Until a choice is made they hold the fallbacks: the version asked for (or `none`),
no baseline, the strategy asked for, and rollout `none`.

Env: MODEL, VERSION (empty: choose), STRATEGY (empty: the route's), GATEWAY_NAMESPACE, MODEL_ROUTES (JSON: model ->
route name), STRATEGY_LABEL, SERVICE_NAME, RESULT_VERSION, RESULT_BASELINE, RESULT_STRATEGY, RESULT_ROLLOUT (result
file paths), RESULTS_ONLY.
"""

import json
import os
import sys

STRATEGIES = ("single", "canary", "blue-green", "shadow")
PROGRESSIVE = ("canary", "blue-green", "shadow")


#: The version and rollout results of a run that could not choose (no route, API error, unknown version).
UNCHOSEN = "none"
RESULTS = ("version", "baseline", "strategy", "rollout")


class ChooseError(Exception):
    pass


def fallback_results(env):
    """The results a failed choice leaves: what the run asked for, else UNCHOSEN. A pure function."""
    return {
        "version": env.get("VERSION") or UNCHOSEN,
        "baseline": "",
        "strategy": env.get("STRATEGY", ""),
        "rollout": UNCHOSEN,
    }


def write_results(env, results):
    for key in RESULTS:
        with open(env[f"RESULT_{key.upper()}"], "w") as f:
            f.write(results[key])


def live_weights(route, model, service_name="model-server"):
    """[(version, live weight)] in route order: weighted backends, then mirrored (weight 0) ones."""
    prefix = f"{model}-"
    out = {}

    def version_of(ref):
        ns = ref.get("namespace", "")
        if ref.get("name") != service_name or not ns.startswith(prefix) or len(ns) == len(prefix):
            raise ChooseError(f"backend {ns}/{ref.get('name')} of the route of {model} is not a version of {model}")
        return ns[len(prefix) :]

    for rule in route["spec"].get("rules", []):
        for ref in rule.get("backendRefs", []):
            v = version_of(ref)
            # Gateway API: a backendRef without weight has weight 1.
            out[v] = out.get(v, 0) + int(ref.get("weight", 1))
        for f in rule.get("filters", []):
            if f.get("type") == "RequestMirror":
                out.setdefault(version_of(f["requestMirror"]["backendRef"]), 0)
    if not out:
        raise ChooseError(f"the route of {model} has no backends")
    return list(out.items())


def choose(
    route, model, version="", strategy="", strategy_label="mlops-testbed/traffic-strategy", service_name="model-server"
):
    """{version, baseline, strategy, rollout} for a delivery of `model`. A pure function; raises ChooseError."""
    strategy = strategy or route["metadata"].get("labels", {}).get(strategy_label, "")
    if strategy not in STRATEGIES:
        raise ChooseError(
            f"strategy {strategy!r}: one of {', '.join(STRATEGIES)} "
            f"(param strategy, or the route's {strategy_label} label)"
        )
    weights = live_weights(route, model, service_name)
    names = [v for v, _ in weights]
    if version:
        if version not in names:
            raise ChooseError(
                f"version {version} is not a backend of the route of {model} (versions: {', '.join(names)}): "
                "add it to mlops-testbed:models and run pulumi up"
            )
        candidate = version
    else:
        serving = max(weights, key=lambda vw: vw[1])[0] if len(weights) > 1 else None
        candidate = min((vw for vw in weights if vw[0] != serving), key=lambda vw: vw[1])[0]
    others = [vw for vw in weights if vw[0] != candidate and vw[1] > 0]
    baseline = max(others, key=lambda vw: vw[1])[0] if others else ""
    if not baseline:
        rollout = "in-place"
    elif strategy == "single":
        rollout = "switch"
    else:
        rollout = "progressive"
    return {"version": candidate, "baseline": baseline, "strategy": strategy, "rollout": rollout}


def main():
    e = os.environ
    model = e["MODEL"]
    write_results(e, fallback_results(e))
    if e.get("RESULTS_ONLY") == "1":
        return 0
    from mlops_steps import kube

    try:
        routes = json.loads(e.get("MODEL_ROUTES") or "{}")
        if model not in routes:
            raise ChooseError(
                f"model {model} has no route ({', '.join(sorted(routes)) or 'no models'} have): "
                "add it to mlops-testbed:models and run pulumi up"
            )
        client = kube.connect()
        route = client.get("gateway.networking.k8s.io/v1", "HTTPRoute", e["GATEWAY_NAMESPACE"], routes[model])
        chosen = choose(
            route,
            model,
            e.get("VERSION", ""),
            e.get("STRATEGY", ""),
            e["STRATEGY_LABEL"],
            e.get("SERVICE_NAME", "model-server"),
        )
    except (ChooseError, kube.KubeError) as err:
        print(f"choose-versions: {err}", file=sys.stderr)
        return 1
    write_results(e, chosen)
    print(
        f"{model}: deliver {chosen['version']} ({chosen['rollout']}, {chosen['strategy']}) "
        f"against baseline {chosen['baseline'] or '(none)'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
