#!/usr/bin/env python3
"""Deploys a model version's server into its namespace (<model>-<version>) and waits for the rollout.

Applies (server-side apply, as the deployer) a Deployment, a HorizontalPodAutoscaler and a PodDisruptionBudget.
The Service and ServiceAccount `model-server` already exist (Pulumi creates them with the namespace), and the
monitoring stack's PodMonitor scrapes every model server's `metrics` port, so no ServiceMonitor is needed.
The pod's init container copies the build models/<model>/<version>/<BUILD>/ from the store (read-only identity of
`model-server`); without BUILD, the version's newest build (`@latest`) as the pod starts.

Everything else comes from the version's deploy settings, the namespace's ConfigMap `model-server-deploy`, which
Pulumi writes from the stack config: replicas and GPUs per replica, the HPA's maximum and the rollout's surge (both
what the namespace quota admits), the pods' resources, and what the platform's identity needs on the pod (labels,
and the store credentials Secret as envFrom where the platform has no token identity). REPLICAS and GPU override
the settings only when set (non-empty).

The image must be pinned by digest (`<repository>[:<tag>]@sha256:<64 hex>`): a tag can be moved to other code
after it was tested, a digest cannot.

Env: MODEL, VERSION, IMAGE, BUILD, REPLICAS, GPU (empty: the settings'), POD_LABELS (JSON), store settings (STORE_*,
MODELS_BUCKET), GPU_NODE_SELECTOR and GPU_TOLERATIONS (JSON), HTTP_PORT, METRICS_PORT, ROLLOUT_TIMEOUT.
"""

import json
import os
import re
import sys

NAME = "model-server"
STORE_ENV = ("STORE_KIND", "MODELS_BUCKET", "STORE_ENDPOINT", "STORE_REGION", "AWS_REGION")
RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
}
SETTINGS_CONFIGMAP = "model-server-deploy"
#: An image reference pinned by digest: repository, optional tag, then @sha256: and 64 lowercase hex digits.
PINNED_IMAGE = re.compile(r"^[^\s@]+@sha256:[0-9a-f]{64}$")


class SettingsError(ValueError):
    pass


def image_problem(image):
    """Why an image reference cannot be deployed, or None. A pure function."""
    if PINNED_IMAGE.match(image or ""):
        return None
    return (
        f"image {image!r} is not pinned by digest; give <repository>[:<tag>]@sha256:<digest> "
        "(the build-image task's `image` result is one)"
    )


def deploy_settings(configmap):
    """The version's deploy settings from the namespace's ConfigMap data. Raises SettingsError naming the key."""
    data = (configmap or {}).get("data") or {}

    def parsed(key, kind, default):
        raw = data.get(key)
        if raw in (None, ""):
            if default is None:
                raise SettingsError(f"{SETTINGS_CONFIGMAP}: key {key} is missing; run pulumi up to write the settings")
            return default
        try:
            value = json.loads(raw)
        except ValueError:
            raise SettingsError(f"{SETTINGS_CONFIGMAP}: {key} is not JSON: {raw[:80]!r}") from None
        if not isinstance(value, kind) or isinstance(value, bool):
            raise SettingsError(f"{SETTINGS_CONFIGMAP}: {key} must be a JSON {kind.__name__}")
        return value

    out = {
        "replicas": parsed("replicas", int, None),
        "gpu": parsed("gpu", int, None),
        "max_replicas": parsed("max-replicas", int, None),
        "max_surge": parsed("max-surge", int, None),
        "resources": parsed("pod-resources", dict, None),
        "pod_labels": parsed("pod-labels", dict, {}),
        "env_from": parsed("pod-env-from", list, []),
    }
    for container in ("server", "fetcher"):
        if not isinstance(out["resources"].get(container), dict):
            raise SettingsError(f"{SETTINGS_CONFIGMAP}: pod-resources needs the {container} container's resources")
    return out


def _override(env, key, settings_value):
    raw = env.get(key, "")
    return int(raw) if raw != "" else settings_value


def rolling_update(gpu, max_surge):
    """The rollout: a GPU version replaces pods one at a time (its quota is replicas x GPUs, so a surge pod would
    never be admitted); a CPU version surges by what the settings say the quota has room for (1, or 0 at the limit)."""
    if gpu > 0 or max_surge < 1:
        return {"maxSurge": 0, "maxUnavailable": 1}
    return {"maxSurge": 1, "maxUnavailable": 0}


def manifests(env, settings):
    """The objects of one model version's server. A pure function of the environment and the deploy settings."""
    model, version = env["MODEL"], env["VERSION"]
    ns = f"{model}-{version}"
    replicas, gpu = _override(env, "REPLICAS", settings["replicas"]), _override(env, "GPU", settings["gpu"])
    http, metrics_port = int(env.get("HTTP_PORT", "8080")), int(env.get("METRICS_PORT", "9090"))
    labels = {
        "app.kubernetes.io/name": NAME,
        "app.kubernetes.io/version": version,
        "app.kubernetes.io/part-of": "mlops-testbed",
        "mlops-testbed/model": model,
        "mlops-testbed/version": version,
    }
    pod_labels = {**json.loads(env.get("POD_LABELS") or "{}"), **settings["pod_labels"], **labels}
    selector = {"app.kubernetes.io/name": NAME}
    store_env = [{"name": k, "value": env[k]} for k in STORE_ENV if env.get(k)]
    server = settings["resources"]["server"]
    resources = {"requests": dict(server.get("requests") or {}), "limits": dict(server.get("limits") or {})}
    if gpu > 0:
        resources["limits"]["nvidia.com/gpu"] = str(gpu)
    pod_spec = {
        "serviceAccountName": NAME,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "runAsGroup": 65532,
            "fsGroup": 65532,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumes": [{"name": "model", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
        "initContainers": [
            {
                "name": "fetch-model",
                "image": env["IMAGE"],
                "command": [
                    "python",
                    "-m",
                    "mlops_steps.store",
                    "download",
                    "models",
                    f"models/{model}/{version}/{env.get('BUILD') or '@latest'}/",
                    "/model",
                ],
                "env": store_env,
                "envFrom": settings["env_from"],
                "resources": settings["resources"]["fetcher"],
                "securityContext": RESTRICTED,
                "volumeMounts": [{"name": "model", "mountPath": "/model"}, {"name": "tmp", "mountPath": "/tmp"}],
            }
        ],
        "containers": [
            {
                "name": NAME,
                "image": env["IMAGE"],
                "args": ["--model-dir", "/model", "--port", str(http), "--metrics-port", str(metrics_port)],
                "env": [
                    {"name": "MODEL_NAME", "value": model},
                    {"name": "MODEL_VERSION", "value": version},
                    {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                ],
                "ports": [{"name": "http", "containerPort": http}, {"name": "metrics", "containerPort": metrics_port}],
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5},
                "livenessProbe": {
                    "httpGet": {"path": "/healthz", "port": "http"},
                    "periodSeconds": 20,
                    "failureThreshold": 3,
                },
                "resources": resources,
                "securityContext": RESTRICTED,
                "volumeMounts": [
                    {"name": "model", "mountPath": "/model", "readOnly": True},
                    {"name": "tmp", "mountPath": "/tmp"},
                ],
            }
        ],
    }
    if gpu > 0:
        pod_spec["nodeSelector"] = json.loads(env.get("GPU_NODE_SELECTOR") or "{}")
        pod_spec["tolerations"] = json.loads(env.get("GPU_TOLERATIONS") or "[]")
    meta = lambda: {"name": NAME, "namespace": ns, "labels": dict(labels)}  # noqa: E731
    objects = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta(),
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": selector},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": rolling_update(gpu, settings["max_surge"])},
                "template": {"metadata": {"labels": pod_labels}, "spec": pod_spec},
            },
        }
    ]
    if replicas > 0:
        objects.append(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": meta(),
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": NAME},
                    "minReplicas": replicas,
                    # What the quota admits (the settings'); never below the minimum, which an override may raise.
                    "maxReplicas": max(replicas, settings["max_replicas"]),
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                        }
                    ],
                },
            }
        )
        objects.append(
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": meta(),
                "spec": {"selector": {"matchLabels": selector}, "maxUnavailable": 1},
            }
        )
    return objects


def main():
    e = os.environ
    problem = image_problem(e.get("IMAGE", ""))
    if problem:
        print(f"deploy: {problem}", file=sys.stderr)
        return 1
    from mlops_steps import kube

    client = kube.connect()
    ns = f"{e['MODEL']}-{e['VERSION']}"
    try:
        settings = deploy_settings(client.get("v1", "ConfigMap", ns, SETTINGS_CONFIGMAP))
    except SettingsError as err:
        print(f"deploy: {err}", file=sys.stderr)
        return 1
    for obj in manifests(e, settings):
        client.apply(obj)
        print(f"applied {obj['kind']} {obj['metadata']['namespace']}/{obj['metadata']['name']}")
    client.wait_rollout(
        ns, NAME, timeout=int(e.get("ROLLOUT_TIMEOUT", "600")), interval=float(e.get("ROLLOUT_POLL_SECONDS", "5"))
    )
    print("rolled out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
