#!/usr/bin/env python3
"""Kubernetes API access of the pipeline steps, through the official client (`kubernetes`, pinned in
requirements-kube.txt): server-side apply, get, list, merge patch and delete of any kind the API serves (the dynamic
client finds it by discovery), and a rollout wait.

Credentials as `kubernetes.config.load_config()` finds them: the file KUBECONFIG names (or ~/.kube/config) when it
exists, else the pod's service-account token and CA (in-cluster). A step runs the same way in its Task's pod and
on a workstation or a local control plane with a kubeconfig carrying the pipeline service account's token.
"""

import builtins
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes import dynamic
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.resource import Resource

FIELD_MANAGER = "mlops-testbed-pipelines"

#: A Kubernetes object as JSON (apiVersion, kind, metadata, ...), as the API returns it.
Obj = dict[str, Any]


class KubeError(Exception):
    pass


def _error(action: str, err: ApiException) -> KubeError:
    body = err.body.decode(errors="replace") if isinstance(err.body, bytes) else (err.body or "")
    return KubeError(f"{action}: {err.status} {err.reason}: {body[:500]}")


class Client:
    """One connection to the API. `api_client` is a configured `kubernetes.client.ApiClient`; without one, connect()."""

    def __init__(self, api_client: k8s_client.ApiClient) -> None:
        # Discovery is cached per process in a private temporary file: a step runs once, and a cache shared between
        # runs (the client's default, in /tmp) could describe another cluster's API.
        self._cache_dir = tempfile.TemporaryDirectory(prefix="kube-discovery-")
        self.dynamic = dynamic.DynamicClient(api_client, cache_file=os.path.join(self._cache_dir.name, "cache.json"))

    def resource(self, api_version: str, kind: str) -> Resource:
        try:
            return self.dynamic.resources.get(api_version=api_version, kind=kind)
        except Exception as err:  # ResourceNotFoundError, ResourceNotUniqueError
            raise KubeError(f"the API serves no {api_version} {kind}: {err}") from None

    def _call(self, action: str, fn: Callable[[], Any]) -> Obj:
        try:
            result = fn()
        except ApiException as err:
            raise _error(action, err) from None
        return result.to_dict() if hasattr(result, "to_dict") else result

    def apply(self, obj: Obj) -> Obj:
        """Server-side apply of one object (this field manager owns what it sets; conflicts are forced)."""
        meta = obj["metadata"]
        res = self.resource(obj["apiVersion"], obj["kind"])
        return self._call(
            f"apply {obj['kind']} {meta.get('namespace')}/{meta['name']}",
            lambda: res.server_side_apply(
                body=obj,
                name=meta["name"],
                namespace=meta.get("namespace"),
                field_manager=FIELD_MANAGER,
                force_conflicts=True,
            ),
        )

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Obj:
        res = self.resource(api_version, kind)
        return self._call(f"get {kind} {namespace}/{name}", lambda: res.get(name=name, namespace=namespace))

    def list(
        self, api_version: str, kind: str, namespace: str, label_selector: str | None = None
    ) -> builtins.list[Obj]:
        res = self.resource(api_version, kind)
        found = self._call(
            f"list {kind} in {namespace}", lambda: res.get(namespace=namespace, label_selector=label_selector)
        )
        return found.get("items") or []

    def merge_patch(self, api_version: str, kind: str, namespace: str, name: str, patch: Obj) -> Obj:
        """JSON merge patch (RFC 7386); put metadata.resourceVersion in it to fail on a concurrent change."""
        res = self.resource(api_version, kind)
        return self._call(
            f"patch {kind} {namespace}/{name}",
            lambda: res.patch(body=patch, name=name, namespace=namespace, content_type="application/merge-patch+json"),
        )

    def delete(self, api_version: str, kind: str, namespace: str, name: str) -> Obj:
        res = self.resource(api_version, kind)
        return self._call(
            f"delete {kind} {namespace}/{name}",
            lambda: res.delete(name=name, namespace=namespace, propagation_policy="Background"),
        )

    def wait_rollout(self, namespace: str, name: str, timeout: float = 600, interval: float = 5) -> Obj:
        deadline = time.time() + timeout
        while True:
            d = self.get("apps/v1", "Deployment", namespace, name)
            if rolled_out(d):
                return d
            if time.time() > deadline:
                raise KubeError(f"deployment {namespace}/{name} did not roll out in {timeout}s: {d.get('status')}")
            time.sleep(interval)


def connect() -> Client:
    """A Client with `kubernetes.config.load_config()` credentials: KUBECONFIG (or ~/.kube/config), else in-cluster."""
    configuration = k8s_client.Configuration()
    k8s_config.load_config(client_configuration=configuration)
    return Client(k8s_client.ApiClient(configuration))


def rolled_out(deployment: Obj) -> bool:
    """Whether a Deployment's latest spec is fully rolled out and available. A pure function."""
    spec, status = deployment.get("spec", {}), deployment.get("status") or {}
    want = spec.get("replicas", 1)
    return (
        status.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 0)
        and status.get("updatedReplicas", 0) == want
        and status.get("availableReplicas", 0) == want
        and status.get("replicas", 0) == want
    )
