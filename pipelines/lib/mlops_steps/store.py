#!/usr/bin/env python3
"""Access to the artifact store (models and datasets) for pipeline steps and the model server's loader.

Configured from the environment (the `pipeline-settings` ConfigMap the platform renders): STORE_KIND picks the
adapter, MODELS_BUCKET and DATASETS_BUCKET name the buckets (containers), STORE_ENDPOINT and STORE_REGION say where:

- `s3`: AWS S3 at the SDK's own endpoint (or AWS_ENDPOINT_URL_S3); credentials from the SDK's chain (the pod's IRSA
  web-identity token, or AWS_* variables).
- `s3-compatible`: the S3 API at STORE_ENDPOINT (SeaweedFS in the cluster, or a store of your own), path-style
  requests (a bucket in the host name would not resolve inside a cluster); keys from AWS_* variables (the platform's
  credentials Secret).
- `azure-blob`: the Blob API at STORE_ENDPOINT (the storage account's blob endpoint); credentials from AKS workload
  identity (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, which its webhook injects), or the
  connection string in AZURE_STORAGE_CONNECTION_STRING where a local tier gives one (Azurite).

Never from here. Every adapter offers the same four operations (ObjectStore), and none can delete.

Model artifacts are immutable: `upload_dir(..., immutable=True)` refuses a prefix that already holds objects, and
the Blob adapter also refuses to overwrite an object. Each registration of a model version is one build,
`models/<model>/<version>/<build id>/`, so a version slot can be retrained any number of times without overwriting
anything; `@latest/` in a key names the newest build.

CLI:  python -m mlops_steps.store download <models|datasets> <key-or-prefix> <dest>
      python -m mlops_steps.store upload <models|datasets> <src-dir> <prefix> [--immutable]
"""

import argparse
import datetime
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple, Protocol


class StoreError(Exception):
    """A store problem a step reports in one line (unknown store, bad prefix, nothing there, immutable)."""


class ObjectInfo(NamedTuple):
    """One object of a listing: its key and when it was last written."""

    key: str
    modified: datetime.datetime


class ObjectStore(Protocol):
    """What the steps do with a store, on every platform: list, read, write without overwriting, tell the version."""

    #: How the store names an object in messages (s3://bucket/key, azure-blob://container/key).
    scheme: str
    #: Objects per listing page (None: the API's default), and the pages read so far.
    page_size: int | None
    pages: int

    def objects(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        """Every object under a prefix, following the API's pages."""
        ...

    def download_file(self, bucket: str, key: str, dest: str) -> None:
        """Writes one object to the file `dest`."""
        ...

    def upload_file(self, src: str, bucket: str, key: str) -> None:
        """Writes the file `src` as one object."""
        ...

    def version(self, bucket: str, key: str) -> str:
        """The store's version id of an object (versioning on), or its ETag."""
        ...


#: A boto3 S3 client (boto3 has no type information without its stubs).
S3Client = Any


class S3Store:
    """The S3 API through boto3 (AWS S3, SeaweedFS, any S3-compatible store)."""

    scheme = "s3"

    def __init__(self, client: S3Client, page_size: int | None = None) -> None:
        self.client = client
        #: Objects per listing page (the API's default, 1000, when None); pages read so far.
        self.page_size = page_size
        self.pages = 0

    def objects(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        token = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
            if self.page_size:
                kwargs["MaxKeys"] = self.page_size
            if token:
                kwargs["ContinuationToken"] = token
            page = self.client.list_objects_v2(**kwargs)
            self.pages += 1
            for o in page.get("Contents", []):
                yield ObjectInfo(str(o["Key"]), o["LastModified"])
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")

    def download_file(self, bucket: str, key: str, dest: str) -> None:
        self.client.download_file(bucket, key, dest)

    def upload_file(self, src: str, bucket: str, key: str) -> None:
        self.client.upload_file(src, bucket, key)

    def version(self, bucket: str, key: str) -> str:
        head = self.client.head_object(Bucket=bucket, Key=key)
        version = head.get("VersionId")
        return str(version) if version and version != "null" else str(head["ETag"]).strip('"')


class BlobStore:
    """The Azure Blob API through azure-storage-blob: buckets are containers, keys are blob names."""

    scheme = "azure-blob"

    def __init__(self, service: Any, page_size: int | None = None) -> None:
        self.service = service
        #: Blobs per listing page (the API's default, 5000, when None); pages read so far.
        self.page_size = page_size
        self.pages = 0

    def objects(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        container = self.service.get_container_client(bucket)
        pages = container.list_blobs(name_starts_with=prefix, results_per_page=self.page_size).by_page()
        for page in pages:
            self.pages += 1
            for blob in page:
                yield ObjectInfo(str(blob.name), blob.last_modified)

    def download_file(self, bucket: str, key: str, dest: str) -> None:
        with open(dest, "wb") as f:
            self.service.get_blob_client(bucket, key).download_blob().readinto(f)

    def upload_file(self, src: str, bucket: str, key: str) -> None:
        from azure.core.exceptions import ResourceExistsError

        try:
            with open(src, "rb") as f:
                self.service.get_blob_client(bucket, key).upload_blob(f, overwrite=False)
        except ResourceExistsError:
            raise StoreError(f"azure-blob://{bucket}/{key} already exists; artifacts are never overwritten") from None

    def version(self, bucket: str, key: str) -> str:
        props = self.service.get_blob_client(bucket, key).get_blob_properties()
        return str(props.version_id) if props.version_id else str(props.etag).strip('"')


def bucket_for(store: str, env: Mapping[str, str] | None = None) -> str:
    """The bucket of `models` or `datasets` from the settings."""
    env = os.environ if env is None else env
    key = {"models": "MODELS_BUCKET", "datasets": "DATASETS_BUCKET"}.get(store)
    if key is None:
        raise StoreError(f"unknown store {store!r}: use models or datasets")
    bucket = env.get(key, "")
    if not bucket:
        raise StoreError(f"{key} is not set")
    return bucket


def _s3(env: Mapping[str, str]) -> ObjectStore:
    import boto3  # imported here so the pure functions are usable without it

    kwargs: dict[str, str] = {}
    if env.get("STORE_REGION"):
        kwargs["region_name"] = env["STORE_REGION"]
    return S3Store(boto3.client("s3", **kwargs))


def _s3_compatible(env: Mapping[str, str]) -> ObjectStore:
    import boto3
    from botocore.config import Config

    if not env.get("STORE_ENDPOINT"):
        raise StoreError("STORE_ENDPOINT is not set: an S3-compatible store has no default endpoint")
    config = Config(s3={"addressing_style": "path"})
    return S3Store(
        boto3.client(
            "s3", endpoint_url=env["STORE_ENDPOINT"], region_name=env.get("STORE_REGION") or None, config=config
        )
    )


def blob_credential(env: Mapping[str, str]) -> Any:
    """AKS workload identity: the federated token the webhook mounts, exchanged with Entra ID by azure-identity."""
    from azure.identity import WorkloadIdentityCredential

    missing = [k for k in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE") if not env.get(k)]
    if missing:
        raise StoreError(
            f"{', '.join(missing)} not set: the pod has no workload identity (label azure.workload.identity/use)"
        )
    return WorkloadIdentityCredential(
        tenant_id=env["AZURE_TENANT_ID"],
        client_id=env["AZURE_CLIENT_ID"],
        token_file_path=env["AZURE_FEDERATED_TOKEN_FILE"],
    )


def _azure_blob(env: Mapping[str, str]) -> ObjectStore:
    from azure.storage.blob import BlobServiceClient

    if env.get("AZURE_STORAGE_CONNECTION_STRING"):
        return BlobStore(BlobServiceClient.from_connection_string(env["AZURE_STORAGE_CONNECTION_STRING"]))
    if not env.get("STORE_ENDPOINT"):
        raise StoreError("STORE_ENDPOINT is not set: the storage account's blob endpoint")
    return BlobStore(BlobServiceClient(account_url=env["STORE_ENDPOINT"], credential=blob_credential(env)))


#: The adapter of each store kind the platforms render (contract/platform.ts ArtifactStoreKind).
ADAPTERS: dict[str, Callable[[Mapping[str, str]], ObjectStore]] = {
    "s3": _s3,
    "s3-compatible": _s3_compatible,
    "azure-blob": _azure_blob,
}


def store_from_env(env: Mapping[str, str] | None = None) -> ObjectStore:
    """The adapter for the configured store (STORE_KIND)."""
    env = os.environ if env is None else env
    kind = env.get("STORE_KIND", "")
    adapter = ADAPTERS.get(kind)
    if adapter is None:
        raise StoreError(f"STORE_KIND {kind!r} is not supported; supported: {', '.join(ADAPTERS)}")
    return adapter(env)


def normalise_prefix(prefix: str) -> str:
    """`models/iris/v1` -> `models/iris/v1/`; refuses absolute, empty or wildcard prefixes."""
    if not prefix or prefix.startswith("/") or "*" in prefix or ".." in prefix.split("/"):
        raise StoreError(f"bad store prefix {prefix!r}")
    return prefix if prefix.endswith("/") else prefix + "/"


def list_keys(store: ObjectStore, bucket: str, prefix: str) -> list[str]:
    """Every key under a prefix."""
    return [o.key for o in store.objects(bucket, prefix)]


def newest_key(store: ObjectStore, bucket: str, prefix: str) -> str:
    """The most recently written object under a prefix (ties: the greatest key)."""
    newest: ObjectInfo | None = None
    for o in store.objects(bucket, prefix):
        if not o.key.endswith("/") and (newest is None or (o.modified, o.key) > (newest.modified, newest.key)):
            newest = o
    if newest is None:
        raise StoreError(f"nothing under {store.scheme}://{bucket}/{prefix}")
    return newest.key


LATEST = "@latest"


def build_id(commit: str = "", now: float | None = None) -> str:
    """Id of one registration of a model version: UTC time, sortable, and the source commit when known."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    short = "".join(c for c in commit[:7] if c.isalnum())
    return f"{stamp}-{short}" if short else stamp


def resolve_latest(store: ObjectStore, bucket: str, key: str) -> str:
    """Replaces a `@latest/` segment with the newest build under the prefix before it (build ids sort by time):
    `models/iris/v1/@latest/metrics.json` -> `models/iris/v1/20261123T221500Z-abc1234/metrics.json`."""
    marker = f"{LATEST}/"
    i = key.find(marker)
    if i < 0 or (i > 0 and key[i - 1] != "/"):
        return key
    slot, rest = key[:i], key[i + len(marker) :]
    builds = sorted({k[len(slot) :].split("/", 1)[0] for k in list_keys(store, bucket, slot) if "/" in k[len(slot) :]})
    if not builds:
        raise StoreError(f"no build under {store.scheme}://{bucket}/{slot}")
    return f"{slot}{builds[-1]}/{rest}"


def download(store: ObjectStore, bucket: str, key_or_prefix: str, dest: str) -> list[str]:
    """Downloads one object to the file `dest`, or every object under a prefix (ending in /) into the directory `dest`.
    A `@latest` segment stands for the newest build of a model version (see resolve_latest)."""
    key_or_prefix = resolve_latest(store, bucket, key_or_prefix)
    if not key_or_prefix.endswith("/"):
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
        store.download_file(bucket, key_or_prefix, dest)
        return [dest]
    keys = list_keys(store, bucket, key_or_prefix)
    if not keys:
        raise StoreError(f"nothing under {store.scheme}://{bucket}/{key_or_prefix}")
    written = []
    for key in keys:
        rel = key[len(key_or_prefix) :]
        if not rel or rel.endswith("/"):
            continue
        path = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        store.download_file(bucket, key, path)
        written.append(path)
    return written


def upload_dir(store: ObjectStore, bucket: str, src: str, prefix: str, immutable: bool = True) -> list[str]:
    """Uploads every file of `src` under `prefix`; with `immutable`, refuses when the prefix already holds objects."""
    prefix = normalise_prefix(prefix)
    if immutable and list_keys(store, bucket, prefix):
        raise StoreError(
            f"{store.scheme}://{bucket}/{prefix} already exists; model versions are immutable, register a new version"
        )
    uploaded = []
    for root, _dirs, files in os.walk(src):
        for name in sorted(files):
            path = os.path.join(root, name)
            key = prefix + os.path.relpath(path, src).replace(os.sep, "/")
            store.upload_file(path, bucket, key)
            uploaded.append(key)
    return uploaded


def object_version(store: ObjectStore, bucket: str, key: str) -> str:
    """The store's version id of an object (bucket versioning), or its ETag when versioning is off."""
    return store.version(bucket, key)


def main(argv: list[str] | None = None) -> int:
    """The CLI (module docstring)."""
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("download")
    d.add_argument("store")
    d.add_argument("key")
    d.add_argument("dest")
    u = sub.add_parser("upload")
    u.add_argument("store")
    u.add_argument("src")
    u.add_argument("prefix")
    u.add_argument("--immutable", action="store_true")
    a = p.parse_args(argv)
    try:
        store = store_from_env()
        bucket = bucket_for(a.store)
        if a.cmd == "download":
            for path in download(store, bucket, a.key, a.dest):
                print(path)
        else:
            for key in upload_dir(store, bucket, a.src, a.prefix, immutable=a.immutable):
                print(key)
    except StoreError as err:
        print(f"store: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
