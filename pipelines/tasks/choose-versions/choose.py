#!/usr/bin/env python3
"""Chooses, from a model's HTTPRoute (in the gateway namespace, labelled mlops-testbed/model=<model>), which version a
delivery deploys into and how traffic moves to it. Version namespaces come from the stack's config (Pulumi creates
them; the deployer cannot), so a retrain reuses a configured version: the standby slot.

- candidate: the VERSION asked for, or else the configured version with the least live traffic (a mirrored shadow
  counts as 0; ties go to the first on the route, never to the baseline);
- baseline: among the other versions, the one serving most live traffic; none when no other version serves (a
  model with one version, or a redeploy of the version that serves everything);
- strategy: STRATEGY, or else the model's configured traffic.strategy (the route's mlops-testbed/traffic-strategy);
- rollout: `progressive` (the promote task: canary, blue-green, shadow), `switch` (strategy single: the route task
  sends all traffic to the candidate at once), or `in-place` (no baseline: the candidate already has all the
  traffic it will get, nothing to move).

Env: MODEL, VERSION (empty: choose), STRATEGY (empty: the route's), GATEWAY_NAMESPACE, MODEL_LABEL, STRATEGY_LABEL,
SERVICE_NAME, RESULT_VERSION, RESULT_BASELINE, RESULT_STRATEGY, RESULT_ROLLOUT (result file paths).
"""

import os
import sys

STRATEGIES = ("single", "canary", "blue-green", "shadow")
PROGRESSIVE = ("canary", "blue-green", "shadow")


class ChooseError(Exception):
    pass


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
    from mlops_steps import kube

    e = os.environ
    model = e["MODEL"]
    client = kube.Client()
    routes = client.list(
        "gateway.networking.k8s.io/v1", "HTTPRoute", e["GATEWAY_NAMESPACE"], f"{e['MODEL_LABEL']}={model}"
    )
    if len(routes) != 1:
        # Two routes exist briefly while pulumi up replaces a route whose shape changed; try again after it.
        print(
            f"choose-versions: {len(routes)} HTTPRoutes labelled {e['MODEL_LABEL']}={model} "
            f"in {e['GATEWAY_NAMESPACE']}; expected one",
            file=sys.stderr,
        )
        return 1
    try:
        chosen = choose(
            routes[0],
            model,
            e.get("VERSION", ""),
            e.get("STRATEGY", ""),
            e["STRATEGY_LABEL"],
            e.get("SERVICE_NAME", "model-server"),
        )
    except ChooseError as err:
        print(f"choose-versions: {err}", file=sys.stderr)
        return 1
    for key in ("version", "baseline", "strategy", "rollout"):
        with open(e[f"RESULT_{key.upper()}"], "w") as f:
            f.write(chosen[key])
    print(
        f"{model}: deliver {chosen['version']} ({chosen['rollout']}, {chosen['strategy']}) "
        f"against baseline {chosen['baseline'] or '(none)'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
