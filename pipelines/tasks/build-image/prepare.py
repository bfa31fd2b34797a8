#!/usr/bin/env python3
"""Prepares the model-server image build: a context with the model's code and the store loader (the step library's
package) over the step runtime image (the pinned Python runtime and packages, one image per platform, built at install
time; fetch-source checked it has the model's pins), a Containerfile without RUN instructions (so the build needs no
privileges and no emulation for other platforms), and registry credentials for the pull of the runtime and the push
(mlops_steps.registry, as REGISTRY_LOGIN says).

Env: MODEL_SRC, LIB, BASE_IMAGE (the step runtime), RUNTIME_PACKAGES (where the runtime holds its packages),
IMAGE_REPOSITORY, REGISTRY_LOGIN, COMMIT, CONTEXT (build context dir), AUTH_FILE, and the login's own (the pod's IRSA
or workload identity variables).
"""

import os
import shutil
import sys

from mlops_steps import registry

#: The step library's package, copied into the image: the model's loader (`python -m mlops_steps.store`).
LIB_PACKAGE = "mlops_steps"


def containerfile(base_image, runtime_packages):
    """The serving image: the step runtime (pinned Python and packages), model code and loader, run as non-root."""
    return "\n".join(
        [
            f"FROM {base_image}",
            "COPY app /app",
            f"ENV PYTHONPATH={runtime_packages}:/app PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1",
            "USER 65532:65532",
            "WORKDIR /app",
            'ENTRYPOINT ["python", "/app/server.py"]',
            "",
        ]
    )


def main():
    e = os.environ
    ctx = e["CONTEXT"]
    shutil.rmtree(ctx, ignore_errors=True)
    os.makedirs(ctx)
    shutil.copytree(
        e["MODEL_SRC"], os.path.join(ctx, "app"), ignore=shutil.ignore_patterns("tests", "__pycache__", "*.spec.ts")
    )
    shutil.copytree(
        os.path.join(e["LIB"], LIB_PACKAGE),
        os.path.join(ctx, "app", LIB_PACKAGE),
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    with open(os.path.join(ctx, "Containerfile"), "w") as f:
        f.write(containerfile(e["BASE_IMAGE"], e["RUNTIME_PACKAGES"]))
    try:
        registry.write_auth_file(e["AUTH_FILE"], registry.login(e))
    except registry.RegistryError as err:
        print(f"registry login: {err}", file=sys.stderr)
        return 1
    print(f"context ready for {e['IMAGE_REPOSITORY']} at commit {e['COMMIT']} (registry login: {e['REGISTRY_LOGIN']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
