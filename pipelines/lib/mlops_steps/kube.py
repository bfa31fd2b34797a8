#!/usr/bin/env python3
"""A minimal in-cluster Kubernetes API client (standard library only) for pipeline steps that run as the deployer:
server-side apply, get, list, replace and a rollout wait. Uses the pod's service-account token and CA.
"""

import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
FIELD_MANAGER = "mlops-testbed-pipelines"

#: apiVersion/kind -> (API path prefix, plural) for the kinds the pipelines manage.
KINDS = {
    ("apps/v1", "Deployment"): ("/apis/apps/v1", "deployments"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"): ("/apis/autoscaling/v2", "horizontalpodautoscalers"),
    ("policy/v1", "PodDisruptionBudget"): ("/apis/policy/v1", "poddisruptionbudgets"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): ("/apis/gateway.networking.k8s.io/v1", "httproutes"),
    ("tekton.dev/v1", "PipelineRun"): ("/apis/tekton.dev/v1", "pipelineruns"),
}


class KubeError(Exception):
    pass


def object_path(api_version, kind, namespace, name=None):
    try:
        prefix, plural = KINDS[(api_version, kind)]
    except KeyError:
        raise KubeError(f"unsupported kind {api_version}/{kind}") from None
    path = f"{prefix}/namespaces/{namespace}/{plural}"
    return f"{path}/{name}" if name else path


class Client:
    def __init__(self, server=None, token=None, ca_file=None):
        host = os.environ.get("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc")
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        self.server = server or f"https://{host}:{port}"
        self.token = token if token is not None else open(os.path.join(SA_DIR, "token")).read().strip()
        self.context = ssl.create_default_context(cafile=ca_file or os.path.join(SA_DIR, "ca.crt"))

    def request(self, method, path, body=None, content_type="application/json", query=None):
        url = self.server + path + (("?" + urllib.parse.urlencode(query)) if query else "")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            url,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
                "Content-Type": content_type,
            },
        )
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=30) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as err:
            raise KubeError(f"{method} {path}: {err.code} {err.read().decode(errors='replace')[:500]}") from None

    def apply(self, obj):
        """Server-side apply of one object (this field manager owns what it sets)."""
        meta = obj["metadata"]
        path = object_path(obj["apiVersion"], obj["kind"], meta["namespace"], meta["name"])
        return self.request(
            "PATCH", path, obj, "application/apply-patch+yaml", {"fieldManager": FIELD_MANAGER, "force": "true"}
        )

    def get(self, api_version, kind, namespace, name):
        return self.request("GET", object_path(api_version, kind, namespace, name))

    def list(self, api_version, kind, namespace, label_selector=""):
        query = {"labelSelector": label_selector} if label_selector else None
        return self.request("GET", object_path(api_version, kind, namespace), query=query)["items"]

    def delete(self, api_version, kind, namespace, name):
        return self.request(
            "DELETE", object_path(api_version, kind, namespace, name), query={"propagationPolicy": "Background"}
        )

    def replace(self, obj):
        meta = obj["metadata"]
        return self.request("PUT", object_path(obj["apiVersion"], obj["kind"], meta["namespace"], meta["name"]), obj)

    def wait_rollout(self, namespace, name, timeout=600, interval=5):
        deadline = time.time() + timeout
        while True:
            d = self.get("apps/v1", "Deployment", namespace, name)
            if rolled_out(d):
                return d
            if time.time() > deadline:
                raise KubeError(f"deployment {namespace}/{name} did not roll out in {timeout}s: {d.get('status')}")
            time.sleep(interval)


def rolled_out(deployment):
    """Whether a Deployment's latest spec is fully rolled out and available. A pure function."""
    spec, status = deployment.get("spec", {}), deployment.get("status", {})
    want = spec.get("replicas", 1)
    return (
        status.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 0)
        and status.get("updatedReplicas", 0) == want
        and status.get("availableReplicas", 0) == want
        and status.get("replicas", 0) == want
    )
