#!/usr/bin/env python3
"""Deploys a model version's server into its namespace (<model>-<version>) and waits for the rollout.

Applies (server-side apply, as the deployer) a Deployment, a HorizontalPodAutoscaler and a PodDisruptionBudget.
The Service and ServiceAccount `model-server` already exist (Pulumi creates them with the namespace), and the
monitoring stack's PodMonitor scrapes every model server's `metrics` port, so no ServiceMonitor is needed.
The pod's init container copies the build models/<model>/<version>/<BUILD>/ from the store (read-only identity of
`model-server`); without BUILD, the version's newest build (`@latest`) as the pod starts.
What the platform's identity needs on the pod (labels, and the store credentials Secret as envFrom where the platform
has no token identity) comes from the namespace's ConfigMap `model-server-deploy`, which Pulumi writes.

Env: MODEL, VERSION, IMAGE, BUILD, REPLICAS, GPU, POD_LABELS (JSON), MAX_REPLICAS_FACTOR, store settings (STORE_*,
MODELS_BUCKET), GPU_NODE_SELECTOR and GPU_TOLERATIONS (JSON), HTTP_PORT, METRICS_PORT, ROLLOUT_TIMEOUT.
"""

import json
import os
import sys

NAME = "model-server"
STORE_ENV = ("STORE_KIND", "MODELS_BUCKET", "STORE_ENDPOINT", "STORE_REGION", "AWS_REGION")
RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
}


SETTINGS_CONFIGMAP = "model-server-deploy"


def identity_settings(configmap):
    """Pod labels and envFrom entries from the namespace's deploy-settings ConfigMap data."""
    data = (configmap or {}).get("data") or {}
    labels, env_from = json.loads(data.get("pod-labels") or "{}"), json.loads(data.get("pod-env-from") or "[]")
    if not isinstance(labels, dict) or not isinstance(env_from, list):
        raise ValueError(f"{SETTINGS_CONFIGMAP}: pod-labels must be a JSON object and pod-env-from a JSON list")
    return {"pod_labels": labels, "env_from": env_from}


def manifests(env, identity=None):
    """The objects of one model version's server. A pure function of the settings and the namespace's identity."""
    identity = identity or {"pod_labels": {}, "env_from": []}
    model, version = env["MODEL"], env["VERSION"]
    ns = f"{model}-{version}"
    replicas, gpu = int(env.get("REPLICAS", "1")), int(env.get("GPU", "0"))
    http, metrics_port = int(env.get("HTTP_PORT", "8080")), int(env.get("METRICS_PORT", "9090"))
    labels = {
        "app.kubernetes.io/name": NAME,
        "app.kubernetes.io/version": version,
        "app.kubernetes.io/part-of": "mlops-testbed",
        "mlops-testbed/model": model,
        "mlops-testbed/version": version,
    }
    pod_labels = {**json.loads(env.get("POD_LABELS") or "{}"), **identity["pod_labels"], **labels}
    selector = {"app.kubernetes.io/name": NAME}
    store_env = [{"name": k, "value": env[k]} for k in STORE_ENV if env.get(k)]
    resources = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}}
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
                    "/app/store.py",
                    "download",
                    "models",
                    f"models/{model}/{version}/{env.get('BUILD') or '@latest'}/",
                    "/model",
                ],
                "env": store_env,
                "envFrom": identity["env_from"],
                "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
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
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
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
                    "maxReplicas": replicas * int(env.get("MAX_REPLICAS_FACTOR", "3")),
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
    from mlops_steps import kube

    e = os.environ
    client = kube.Client()
    ns = f"{e['MODEL']}-{e['VERSION']}"
    identity = identity_settings(client.get("v1", "ConfigMap", ns, SETTINGS_CONFIGMAP))
    for obj in manifests(e, identity):
        client.apply(obj)
        print(f"applied {obj['kind']} {obj['metadata']['namespace']}/{obj['metadata']['name']}")
    client.wait_rollout(f"{e['MODEL']}-{e['VERSION']}", NAME, timeout=int(e.get("ROLLOUT_TIMEOUT", "600")))
    print("rolled out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
