#!/usr/bin/env python3
"""Access to the artifact store (models and datasets) for pipeline steps and the model server's loader.

Configured from the environment (the `pipeline-settings` ConfigMap): STORE_KIND (s3 | s3-compatible), MODELS_BUCKET,
DATASETS_BUCKET, STORE_ENDPOINT (s3-compatible only), STORE_REGION. Credentials come from the pod's workload
identity (IRSA web-identity token) or, where a platform hands out keys, from AWS_* variables; never from here.

Model artifacts are immutable: `upload_dir(..., immutable=True)` refuses a prefix that already holds objects. Each
registration of a model version is one build, `models/<model>/<version>/<build id>/`, so a version slot can be
retrained any number of times without overwriting anything; `@latest/` in a key names the newest build.

CLI:  store.py download <models|datasets> <key-or-prefix> <dest>
      store.py upload <models|datasets> <src-dir> <prefix> [--immutable]
"""

import argparse
import os
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any

#: A boto3 S3 client (boto3 has no type information without its stubs).
S3Client = Any

S3_KINDS = ("s3", "s3-compatible")


class StoreError(Exception):
    """A store problem a step reports in one line (unknown store, bad prefix, nothing there, immutable)."""


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


def client_from_env(env: Mapping[str, str] | None = None) -> S3Client:
    """A boto3 S3 client for the configured store."""
    env = os.environ if env is None else env
    kind = env.get("STORE_KIND", "")
    if kind not in S3_KINDS:
        raise StoreError(f"STORE_KIND {kind!r} is not supported by this step; supported: {', '.join(S3_KINDS)}")
    import boto3  # imported here so the pure functions above are usable without it

    kwargs: dict[str, str] = {}
    if env.get("STORE_REGION"):
        kwargs["region_name"] = env["STORE_REGION"]
    if kind == "s3-compatible" and env.get("STORE_ENDPOINT"):
        kwargs["endpoint_url"] = env["STORE_ENDPOINT"]
    return boto3.client("s3", **kwargs)


def normalise_prefix(prefix: str) -> str:
    """`models/iris/v1` -> `models/iris/v1/`; refuses absolute, empty or wildcard prefixes."""
    if not prefix or prefix.startswith("/") or "*" in prefix or ".." in prefix.split("/"):
        raise StoreError(f"bad store prefix {prefix!r}")
    return prefix if prefix.endswith("/") else prefix + "/"


def objects(client: S3Client, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    """Every object under a prefix (ListObjectsV2 entries: Key, LastModified, ...), following continuation pages."""
    token = None
    while True:
        kwargs = {"Bucket": bucket, "Prefix": prefix}
        if token:
            kwargs["ContinuationToken"] = token
        page = client.list_objects_v2(**kwargs)
        yield from page.get("Contents", [])
        if not page.get("IsTruncated"):
            return
        token = page.get("NextContinuationToken")


def list_keys(client: S3Client, bucket: str, prefix: str) -> list[str]:
    """Every key under a prefix."""
    return [o["Key"] for o in objects(client, bucket, prefix)]


def newest_key(client: S3Client, bucket: str, prefix: str) -> str:
    """The most recently written object under a prefix (ties: the greatest key)."""
    newest = None
    for o in objects(client, bucket, prefix):
        if not o["Key"].endswith("/") and (
            newest is None or (o["LastModified"], o["Key"]) > (newest["LastModified"], newest["Key"])
        ):
            newest = o
    if newest is None:
        raise StoreError(f"nothing under s3://{bucket}/{prefix}")
    return str(newest["Key"])


LATEST = "@latest"


def build_id(commit: str = "", now: float | None = None) -> str:
    """Id of one registration of a model version: UTC time, sortable, and the source commit when known."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    short = "".join(c for c in commit[:7] if c.isalnum())
    return f"{stamp}-{short}" if short else stamp


def resolve_latest(client: S3Client, bucket: str, key: str) -> str:
    """Replaces a `@latest/` segment with the newest build under the prefix before it (build ids sort by time):
    `models/iris/v1/@latest/metrics.json` -> `models/iris/v1/20261123T221500Z-abc1234/metrics.json`."""
    marker = f"{LATEST}/"
    i = key.find(marker)
    if i < 0 or (i > 0 and key[i - 1] != "/"):
        return key
    slot, rest = key[:i], key[i + len(marker) :]
    builds = sorted({k[len(slot) :].split("/", 1)[0] for k in list_keys(client, bucket, slot) if "/" in k[len(slot) :]})
    if not builds:
        raise StoreError(f"no build under s3://{bucket}/{slot}")
    return f"{slot}{builds[-1]}/{rest}"


def download(client: S3Client, bucket: str, key_or_prefix: str, dest: str) -> list[str]:
    """Downloads one object to the file `dest`, or every object under a prefix (ending in /) into the directory `dest`.
    A `@latest` segment stands for the newest build of a model version (see resolve_latest)."""
    key_or_prefix = resolve_latest(client, bucket, key_or_prefix)
    if not key_or_prefix.endswith("/"):
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
        client.download_file(bucket, key_or_prefix, dest)
        return [dest]
    keys = list_keys(client, bucket, key_or_prefix)
    if not keys:
        raise StoreError(f"nothing under s3://{bucket}/{key_or_prefix}")
    written = []
    for key in keys:
        rel = key[len(key_or_prefix) :]
        if not rel or rel.endswith("/"):
            continue
        path = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        client.download_file(bucket, key, path)
        written.append(path)
    return written


def upload_dir(client: S3Client, bucket: str, src: str, prefix: str, immutable: bool = True) -> list[str]:
    """Uploads every file of `src` under `prefix`; with `immutable`, refuses when the prefix already holds objects."""
    prefix = normalise_prefix(prefix)
    if immutable and list_keys(client, bucket, prefix):
        raise StoreError(f"s3://{bucket}/{prefix} already exists; model versions are immutable, register a new version")
    uploaded = []
    for root, _dirs, files in os.walk(src):
        for name in sorted(files):
            path = os.path.join(root, name)
            key = prefix + os.path.relpath(path, src).replace(os.sep, "/")
            client.upload_file(path, bucket, key)
            uploaded.append(key)
    return uploaded


def object_version(client: S3Client, bucket: str, key: str) -> str:
    """The store's version id of an object (bucket versioning), or its ETag when versioning is off."""
    head = client.head_object(Bucket=bucket, Key=key)
    version = head.get("VersionId")
    return str(version) if version and version != "null" else str(head["ETag"]).strip('"')


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
        client = client_from_env()
        bucket = bucket_for(a.store)
        if a.cmd == "download":
            for path in download(client, bucket, a.key, a.dest):
                print(path)
        else:
            for key in upload_dir(client, bucket, a.src, a.prefix, immutable=a.immutable):
                print(key)
    except StoreError as err:
        print(f"store: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
