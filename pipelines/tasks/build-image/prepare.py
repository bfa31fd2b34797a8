#!/usr/bin/env python3
"""Prepares the model-server image build: a context with the pinned Python packages (installed by fetch-source),
the model's code and the store loader, a Containerfile without RUN instructions (so the build needs no privileges),
and registry credentials for the push.

Env: WORK, MODEL_SRC, LIB, BASE_IMAGE, IMAGE_REPOSITORY, COMMIT, CONTEXT (build context dir), AUTH_FILE.
"""

import base64
import json
import os
import re
import shutil
import sys

ECR_HOST = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com$")


def containerfile(base_image):
    """The serving image: the pinned Python runtime, packages, model code and loader, run as a non-root user."""
    return "\n".join(
        [
            f"FROM {base_image}",
            "COPY deps /opt/deps",
            "COPY app /app",
            "ENV PYTHONPATH=/opt/deps:/app PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1",
            "USER 65532:65532",
            "WORKDIR /app",
            'ENTRYPOINT ["python", "/app/server.py"]',
            "",
        ]
    )


def registry_host(repository):
    return repository.split("/", 1)[0]


def ecr_region(host):
    """The region of an ECR registry host, or None for other registries."""
    m = ECR_HOST.match(host)
    return m.group(2) if m else None


def auth_config(host, token_b64):
    """A containers-auth.json for one registry from a base64 user:password token."""
    base64.b64decode(token_b64, validate=True)
    return {"auths": {host: {"auth": token_b64}}}


def main():
    e = os.environ
    ctx = e["CONTEXT"]
    shutil.rmtree(ctx, ignore_errors=True)
    shutil.copytree(os.path.join(e["WORK"], ".deps"), os.path.join(ctx, "deps"))
    shutil.copytree(
        e["MODEL_SRC"], os.path.join(ctx, "app"), ignore=shutil.ignore_patterns("tests", "__pycache__", "*.spec.ts")
    )
    shutil.copy(os.path.join(e["LIB"], "store.py"), os.path.join(ctx, "app", "store.py"))
    with open(os.path.join(ctx, "Containerfile"), "w") as f:
        f.write(containerfile(e["BASE_IMAGE"]))
    host = registry_host(e["IMAGE_REPOSITORY"])
    region = ecr_region(host)
    config = {"auths": {}}
    if region:
        import boto3

        data = boto3.client("ecr", region_name=region).get_authorization_token()["authorizationData"][0]
        config = auth_config(host, data["authorizationToken"])
    with open(e["AUTH_FILE"], "w") as f:
        json.dump(config, f)
    os.chmod(e["AUTH_FILE"], 0o600)
    print(f"context ready for {e['IMAGE_REPOSITORY']}:{e['COMMIT']} ({'ECR login' if region else 'no registry login'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
