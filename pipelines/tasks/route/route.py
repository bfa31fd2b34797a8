#!/usr/bin/env python3
"""Sends a model's live traffic to one version: sets the backend weights of the model's HTTPRoute (in the gateway
namespace; its name is the model's entry in MODEL_ROUTES, from the pipelines' settings) to 100 for that version and
0 for the others, with a merge patch that fails rather than overwrite a concurrent change.

This is the `route` boundary of the deploy pipeline: strategies `single` and `blue-green` switch all traffic at
once (a blue-green switch and a rollback are the same operation). Progressive strategies (canary steps, shadow
promotion) are separate promotion tasks; this task refuses them instead of guessing.

Env: MODEL, VERSION, STRATEGY, GATEWAY_NAMESPACE, MODEL_ROUTES (JSON: model -> route name), SERVICE_NAME.
"""

import json
import os
import sys

SWITCH_STRATEGIES = ("single", "blue-green")


class RouteError(Exception):
    pass


def route_name(model_routes, model):
    """The name of a model's HTTPRoute from MODEL_ROUTES (JSON object); raises RouteError for an unknown model."""
    routes = json.loads(model_routes or "{}")
    if model not in routes:
        raise RouteError(
            f"model {model} has no route ({', '.join(sorted(routes)) or 'no models'} have): "
            "add it to mlops-testbed:models and run pulumi up"
        )
    return routes[model]


def switch_to(route, model, version, service_name="model-server"):
    """The route with all weight on <model>-<version>.

    A pure function; raises RouteError if that version is not a backend.
    """
    target_ns = f"{model}-{version}"
    new = {**route, "spec": {**route["spec"], "rules": []}}
    found = False
    for rule in route["spec"].get("rules", []):
        if any(f.get("type") == "RequestMirror" for f in rule.get("filters", [])):
            raise RouteError("the route mirrors traffic (shadow strategy); promote it with the promotion tasks")
        refs = []
        for ref in rule.get("backendRefs", []):
            is_target = ref.get("namespace") == target_ns and ref.get("name") == service_name
            found = found or is_target
            refs.append({**ref, "weight": 100 if is_target else 0})
        new["spec"]["rules"].append({**rule, "backendRefs": refs})
    if not found:
        raise RouteError(
            f"version {version} is not a backend of the route of {model}: "
            "add it to mlops-testbed:models and run pulumi up"
        )
    return new


def main():
    e = os.environ
    model, version, strategy = e["MODEL"], e["VERSION"], e["STRATEGY"]
    if strategy not in SWITCH_STRATEGIES:
        print(
            f"route: strategy {strategy!r} is progressive; "
            f"this task switches traffic for {', '.join(SWITCH_STRATEGIES)} only",
            file=sys.stderr,
        )
        return 1
    from mlops_steps import kube

    try:
        name = route_name(e.get("MODEL_ROUTES"), model)
        client = kube.connect()
        route = client.get("gateway.networking.k8s.io/v1", "HTTPRoute", e["GATEWAY_NAMESPACE"], name)
        switched = switch_to(route, model, version, e.get("SERVICE_NAME", "model-server"))
        # resourceVersion makes the patch fail rather than overwrite a change made since the read.
        patch = {
            "metadata": {"resourceVersion": route["metadata"]["resourceVersion"]},
            "spec": {"rules": switched["spec"]["rules"]},
        }
        client.merge_patch("gateway.networking.k8s.io/v1", "HTTPRoute", e["GATEWAY_NAMESPACE"], name, patch)
    except (RouteError, kube.KubeError) as err:
        print(f"route: {err}", file=sys.stderr)
        return 1
    print(f"route {name}: all traffic to {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
