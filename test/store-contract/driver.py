"""Drives the steps' own store and registry code paths with one platform's rendered settings, against a real S3 or
Blob API on loopback (test/store-contract.spec.ts starts the servers and gives the settings). Reads one JSON request
on stdin, prints one JSON result on stdout.

Request: {"action": "setup", "envs": [{...}, ...]}              create each platform's two buckets (as the platform or
                                                                 its user does), all in one process
         {"action": "steps", "env": {...}, "tasks": "<pipelines/tasks>", "acr_tenant": "...", "model_src": "..."}
"""

import base64
import contextlib
import functools
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from unittest import mock

from mlops_steps import registry, store

ENTRA_TOKEN = "entra-access-token-for-the-contract-test"


def load(tasks: str, task: str, file: str) -> Any:
    """A Task's script as a module (the Task folders have dashes: no package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        f"{task.replace('-', '_')}_{file[:-3]}", os.path.join(tasks, task, file)
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def sdk_models() -> Any:
    """One loader of the AWS SDK's bundled service models for every session of this process: it only reads and caches
    the SDK's own files, the same for every session, so the S3 model is parsed once, not once per platform (about
    0.1 s of CPU each)."""
    from botocore.loaders import create_loader

    return create_loader()


def setup(env: dict[str, str]) -> dict[str, Any]:
    """The buckets exist before the steps run: the cloud platforms and SeaweedFS's chart create them, an external
    store's owner does. Created here with the SDKs directly, not through the adapter (which cannot create)."""
    buckets = [env["MODELS_BUCKET"], env["DATASETS_BUCKET"]]
    if env["STORE_KIND"] == "azure-blob":
        from azure.storage.blob import BlobServiceClient

        svc = BlobServiceClient.from_connection_string(env["AZURE_STORAGE_CONNECTION_STRING"])
        for b in buckets:
            svc.create_container(b)
    else:
        import boto3
        import botocore.session

        endpoint = env.get("STORE_ENDPOINT") or env["AWS_ENDPOINT_URL_S3"]
        # A session of its own: the platforms' settings are set up one after another in this process.
        core = botocore.session.get_session()
        core.register_component("data_loader", sdk_models())
        s3 = boto3.session.Session(botocore_session=core).client(
            "s3", endpoint_url=endpoint, region_name=env.get("STORE_REGION") or "us-east-1"
        )
        region = env.get("STORE_REGION") or "us-east-1"
        for b in buckets:
            if region == "us-east-1":
                s3.create_bucket(Bucket=b)
            else:
                s3.create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": region})
    return {"buckets": buckets}


@contextlib.contextmanager
def fake_acr(host: str, tenant: str) -> Iterator[str]:
    """ACR's /oauth2/exchange on loopback: answers a refresh token only to the documented form."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server hook's name)
            form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            expected = {
                "grant_type": ["access_token"],
                "service": [host],
                "tenant": [tenant],
                "access_token": [ENTRA_TOKEN],
            }
            ok = self.path == "/oauth2/exchange" and form == expected
            body = json.dumps({"refresh_token": "acr-refresh-token"} if ok else {"errors": []}).encode()
            self.send_response(200 if ok else 400)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/oauth2/exchange"
    finally:
        server.shutdown()
        server.server_close()


class EntraToken:
    """Stands in for the workload identity credential, whose Entra ID call needs the cloud."""

    class Token:
        token = ENTRA_TOKEN

    def get_token(self, *scopes: str) -> "EntraToken.Token":
        assert scopes == (registry.ACR_SCOPE,), scopes
        return self.Token()


def write_model(work: str, accuracy: float) -> None:
    model = os.path.join(work, "model")
    os.makedirs(model, exist_ok=True)
    with open(os.path.join(model, "params.json"), "w") as f:
        json.dump({"model": "LogisticRegression", "data": "store:iris/"}, f)
    with open(os.path.join(model, "metrics.json"), "w") as f:
        json.dump({"accuracy": accuracy, "n": 30}, f)
    with open(os.path.join(model, "model.joblib"), "wb") as f:
        f.write(os.urandom(64))


def register(reg: Any, env: dict[str, str], work: str, commit: str, now: float) -> tuple[int, str, str]:
    """register.py's main() as the Task runs it, at a fixed time (the build id's clock)."""
    results = {k: os.path.join(work, k) for k in ("uri", "build")}
    step_env = {
        **env,
        "WORK": work,
        "MODEL": "iris",
        "VERSION": "v1",
        "COMMIT": commit,
        "DATASET_VERSION": "dv-1",
        "RESULT_URI": results["uri"],
        "RESULT_BUILD": results["build"],
    }
    err = io.StringIO()
    # Only the store's clock (build ids) is set; the SDKs keep the real one for signing and retries.
    clock = mock.Mock(wraps=time)
    clock.time.return_value = now
    with mock.patch.dict(os.environ, step_env, clear=True), mock.patch.object(store, "time", clock):
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = reg.main()
    build = open(results["build"]).read() if code == 0 else ""
    return code, build, err.getvalue()


def steps(req: dict[str, Any]) -> dict[str, Any]:
    env: dict[str, str] = req["env"]
    tasks = req["tasks"]
    out: dict[str, Any] = {}
    s = store.store_from_env(env)
    out["adapter"] = type(s).__name__
    out["methods"] = sorted(m for m in dir(s) if not m.startswith("_") and callable(getattr(s, m)))
    models, datasets = env["MODELS_BUCKET"], env["DATASETS_BUCKET"]

    # register: a build, the same build again (refused: immutable), a later build.
    reg = load(tasks, "register", "register.py")
    with tempfile.TemporaryDirectory() as work:
        write_model(work, 0.91)
        first = register(reg, env, work, "aaaaaaa1", 0)
        again = register(reg, env, work, "aaaaaaa1", 0)
        write_model(work, 0.95)
        second = register(reg, env, work, "bbbbbbb2", 3600)
    out["register"] = {"first": first[:2], "again": [again[0], again[2].strip()], "second": second[:2]}
    out["latest"] = store.resolve_latest(s, models, "models/iris/v1/@latest/metrics.json")

    # The model server's fetch-model init container: the CLI as deploy.py renders its command.
    with tempfile.TemporaryDirectory() as dest:
        run = subprocess.run(
            [sys.executable, "-m", "mlops_steps.store", "download", "models", "models/iris/v1/@latest/", dest],
            env={**env, "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        fetched = sorted(os.listdir(dest)) if run.returncode == 0 else []
        card = json.load(open(os.path.join(dest, "model-card.json"))) if "model-card.json" in fetched else {}
    out["fetch"] = {"code": run.returncode, "stderr": run.stderr[-500:], "files": fetched, "build": card.get("build")}

    # Datasets: five uploads under one prefix; validate-data fetches the newest, listing two per page.
    keys = [f"iris/2026-11-2{i}/train.csv" for i in range(1, 6)]
    with tempfile.TemporaryDirectory() as d:
        for i, key in enumerate(keys):
            path = os.path.join(d, f"{i}.csv")
            with open(path, "w") as f:
                f.write("a,b,target\n" + "\n".join(f"{i}.{j},1.0,{j % 2}" for j in range(40)) + "\n")
            s.upload_file(path, datasets, key)
        # Writing an object again: the Blob adapter refuses (overwrite=False); S3 has no such guard in its API
        # version here, so the steps' immutability there is the prefix check (register's "again" above). Done outside
        # the datasets' prefix: a rewrite that S3 accepts would rightly become the newest dataset.
        s.upload_file(os.path.join(d, "0.csv"), datasets, "overwrite-check/train.csv")
        try:
            s.upload_file(os.path.join(d, "0.csv"), datasets, "overwrite-check/train.csv")
            out["overwrite_refused"] = False
        except store.StoreError:
            out["overwrite_refused"] = True
        paged = store.store_from_env(env)
        paged.page_size = 2
        out["listing"] = {"keys": store.list_keys(paged, datasets, "iris/"), "pages": paged.pages}
        validate = load(tasks, "validate-data", "validate_data.py")
        dest = os.path.join(d, "train.csv")
        with mock.patch.dict(os.environ, env, clear=True), contextlib.redirect_stdout(io.StringIO()):
            version = validate.fetch_dataset("store:iris/", dest, req["model_src"])
        with open(dest) as f:
            first_row = f.read().splitlines()[1]
        out["dataset"] = {"version": version, "first_row": first_row}

    # The build step's registry login, as the platform's REGISTRY_LOGIN says.
    host = registry.registry_host(env["IMAGE_REPOSITORY"])
    if env["REGISTRY_LOGIN"] == "acr":
        with fake_acr(host, req["acr_tenant"]) as url:
            config = registry.acr_login(host, {**env, "AZURE_TENANT_ID": req["acr_tenant"]}, EntraToken(), url)
    else:
        with mock.patch.dict(os.environ, env, clear=True):
            config = registry.login(env)
    auths = config["auths"]
    out["registry"] = {
        "hosts": sorted(auths),
        "user": base64.b64decode(auths[host]["auth"]).decode().split(":", 1)[0] if host in auths else None,
    }
    return out


def main() -> int:
    req = json.load(sys.stdin)
    # This process stands for the step's pod: its environment is the rendered settings and what the pod's identity
    # gives (the SDKs read their credentials and endpoints from it), and the library's PYTHONPATH.
    pythonpath = os.environ.get("PYTHONPATH", "")

    def stand_for_pod(env: dict[str, str]) -> None:
        os.environ.clear()
        os.environ.update({**env, "PYTHONPATH": pythonpath, "HOME": tempfile.gettempdir()})

    if req["action"] == "setup":
        result: Any = []
        for env in req["envs"]:
            stand_for_pod(env)
            result.append(setup(env))
    else:
        stand_for_pod(req["env"])
        result = steps(req)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
