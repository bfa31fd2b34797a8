#!/usr/bin/env python3
"""Sends a model's live traffic to one version: sets the backend weights of the model's HTTPRoute (in the gateway
namespace, labelled mlops-testbed/model=<model>) to 100 for that version and 0 for the others.

This is the `route` boundary of the deploy pipeline: strategies `single` and `blue-green` switch all traffic at
once (a blue-green switch and a rollback are the same operation). Progressive strategies (canary steps, shadow
promotion) are separate promotion tasks; this task refuses them instead of guessing.

Env: MODEL, VERSION, STRATEGY, GATEWAY_NAMESPACE, MODEL_LABEL, SERVICE_NAME.
"""

import os
import sys

SWITCH_STRATEGIES = ("single", "blue-green")


class RouteError(Exception):
    pass


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
    from mlops_steps import kube

    e = os.environ
    model, version, strategy = e["MODEL"], e["VERSION"], e["STRATEGY"]
    if strategy not in SWITCH_STRATEGIES:
        print(
            f"route: strategy {strategy!r} is progressive; "
            f"this task switches traffic for {', '.join(SWITCH_STRATEGIES)} only",
            file=sys.stderr,
        )
        return 1
    client = kube.Client()
    routes = client.list(
        "gateway.networking.k8s.io/v1", "HTTPRoute", e["GATEWAY_NAMESPACE"], f"{e['MODEL_LABEL']}={model}"
    )
    if not routes:
        print(f"route: no HTTPRoute labelled {e['MODEL_LABEL']}={model} in {e['GATEWAY_NAMESPACE']}", file=sys.stderr)
        return 1
    try:
        for route in routes:
            client.replace(switch_to(route, model, version, e.get("SERVICE_NAME", "model-server")))
            print(f"route {route['metadata']['name']}: all traffic to {version}")
    except RouteError as err:
        print(f"route: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
