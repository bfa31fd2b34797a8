"""Registry logins for the build step and the step runtime's build: the containers-auth.json buildah pushes with.
`python -m mlops_steps.registry <auth file>` writes it (the runtime's build Job, pipelines/install/step-runtime.ts).

REGISTRY_LOGIN (the platform's setting) picks how:

- `ecr`: the pod's IRSA role asks ECR for an authorization token (boto3), valid 12 hours.
- `acr`: AKS workload identity. The federated token is exchanged with Entra ID for an access token for the registry
  (azure-identity, audience https://containerregistry.azure.net), which the registry's `/oauth2/exchange` endpoint
  exchanges for a registry refresh token (ACR's AAD-OAuth flow: grant_type=access_token, service=<registry host>,
  tenant=<tenant id>, access_token=<Entra token>). buildah logs in with the fixed user name
  00000000-0000-0000-0000-000000000000 and that refresh token as the password, as `az acr login --expose-token` does.
- `none`: no credentials (a registry that takes anonymous pushes, or one whose credentials the nodes bring).
"""

import base64
import json
import os
import re
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

#: ECR registry hosts: <account>.dkr.ecr.<region>.amazonaws.com.
ECR_HOST = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com$")
#: The Entra ID scope of tokens ACR accepts, whether or not the registry also accepts ARM-audience tokens.
ACR_SCOPE = "https://containerregistry.azure.net/.default"
#: The user name ACR expects with a refresh token as the password.
ACR_REFRESH_TOKEN_USER = "00000000-0000-0000-0000-000000000000"


class RegistryError(Exception):
    """A login that cannot be done: a setting missing, or the registry refusing the exchange."""


def registry_host(repository: str) -> str:
    """`host[:port]` of an image repository."""
    return repository.split("/", 1)[0]


def ecr_region(host: str) -> str | None:
    """The region of an ECR registry host, or None for other registries."""
    m = ECR_HOST.match(host)
    return m.group(2) if m else None


def auth_config(host: str, token_b64: str) -> dict[str, Any]:
    """A containers-auth.json for one registry from a base64 `user:password` token."""
    base64.b64decode(token_b64, validate=True)
    return {"auths": {host: {"auth": token_b64}}}


def basic_auth(user: str, password: str) -> str:
    """The base64 `user:password` of an auth file entry."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def ecr_login(host: str, env: Mapping[str, str]) -> dict[str, Any]:
    """ECR: an authorization token from the pod's IRSA role (already base64 `AWS:<password>`)."""
    region = ecr_region(host)
    if region is None:
        raise RegistryError(f"{host} is not an ECR registry (<account>.dkr.ecr.<region>.amazonaws.com)")
    import boto3  # imported here so the other logins work without it

    data = boto3.client("ecr", region_name=region).get_authorization_token()["authorizationData"][0]
    return auth_config(host, str(data["authorizationToken"]))


def acr_refresh_token(host: str, tenant: str, access_token: str, url: str | None = None, timeout: float = 30) -> str:
    """ACR's exchange: an Entra ID access token for a registry refresh token (POST <registry>/oauth2/exchange)."""
    body = urllib.parse.urlencode(
        {"grant_type": "access_token", "service": host, "tenant": tenant, "access_token": access_token}
    ).encode()
    req = urllib.request.Request(
        url or f"https://{host}/oauth2/exchange",
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            answer = json.load(resp)
    except OSError as err:
        raise RegistryError(f"{host} refused the token exchange: {err}") from None
    token = answer.get("refresh_token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise RegistryError(f"{host}'s token exchange answered without a refresh_token")
    return token


def entra_credential(env: Mapping[str, str]) -> Any:
    """AKS workload identity's credential (the federated token file the webhook mounts)."""
    from azure.identity import WorkloadIdentityCredential

    missing = [k for k in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE") if not env.get(k)]
    if missing:
        raise RegistryError(
            f"{', '.join(missing)} not set: the build pod has no workload identity (label azure.workload.identity/use)"
        )
    return WorkloadIdentityCredential(
        tenant_id=env["AZURE_TENANT_ID"],
        client_id=env["AZURE_CLIENT_ID"],
        token_file_path=env["AZURE_FEDERATED_TOKEN_FILE"],
    )


def acr_login(
    host: str, env: Mapping[str, str], credential: Any = None, exchange_url: str | None = None
) -> dict[str, Any]:
    """ACR: Entra ID token (workload identity) → registry refresh token → auth file entry."""
    credential = credential if credential is not None else entra_credential(env)
    tenant = env.get("AZURE_TENANT_ID", "")
    if not tenant:
        raise RegistryError("AZURE_TENANT_ID not set: the build pod has no workload identity")
    access_token = credential.get_token(ACR_SCOPE).token
    refresh = acr_refresh_token(host, tenant, access_token, url=exchange_url)
    return auth_config(host, basic_auth(ACR_REFRESH_TOKEN_USER, refresh))


def no_login(host: str, env: Mapping[str, str]) -> dict[str, Any]:
    """No credentials: an empty auth file."""
    return {"auths": {}}


#: The login of each REGISTRY_LOGIN the platforms render (contract/platform.ts RegistryLogin).
LOGINS: dict[str, Callable[[str, Mapping[str, str]], dict[str, Any]]] = {
    "ecr": ecr_login,
    "acr": acr_login,
    "none": no_login,
}


def login(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The auth file for IMAGE_REPOSITORY's registry, by REGISTRY_LOGIN."""
    env = os.environ if env is None else env
    kind = env.get("REGISTRY_LOGIN", "")
    fn = LOGINS.get(kind)
    if fn is None:
        raise RegistryError(f"REGISTRY_LOGIN {kind!r} is not supported; supported: {', '.join(LOGINS)}")
    return fn(registry_host(env["IMAGE_REPOSITORY"]), env)


def write_auth_file(path: str, config: Mapping[str, Any]) -> None:
    """Writes the auth file readable by its owner only (it holds a registry credential)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(config, f)
    os.chmod(path, 0o600)


def main(argv: list[str]) -> int:
    """Writes the auth file named by the one argument for IMAGE_REPOSITORY's registry; 1 on a failed login."""
    if len(argv) != 1:
        print("usage: python -m mlops_steps.registry <auth file>", file=sys.stderr)
        return 2
    try:
        write_auth_file(argv[0], login())
    except RegistryError as err:
        print(f"registry login: {err}", file=sys.stderr)
        return 1
    print(f"registry login for {os.environ['IMAGE_REPOSITORY']} ({os.environ['REGISTRY_LOGIN']}) written to {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
