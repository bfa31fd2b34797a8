"""The build step's registry logins (mlops_steps.registry): ACR's token exchange against a loopback server that checks
each request as ACR documents it, the auth file buildah reads, and the choice of login by REGISTRY_LOGIN."""

import base64
import json
import os
import tempfile
import threading
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

from mlops_steps import registry

HOST = "acrmlopstestbedexample.azurecr.io"
TENANT = "87654321-4321-4321-4321-210987654321"
ENTRA_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.entra-access-token.signature"
REFRESH_TOKEN = "eyJhbGciOiJSUzI1NiJ9.acr-refresh-token.signature"


class FakeAcr(BaseHTTPRequestHandler):
    """ACR's /oauth2/exchange as its AAD-OAuth document describes it: a form POST with grant_type=access_token, the
    registry as service, the tenant and the Entra ID access token; anything else is a 400, like the registry's."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:  # noqa: N802 (the http.server hook's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        form = urllib.parse.parse_qs(body, strict_parsing=True)
        self.requests.append({"path": self.path, "content_type": self.headers.get("Content-Type"), "form": form})
        ok = (
            self.path == "/oauth2/exchange"
            and self.headers.get("Content-Type") == "application/x-www-form-urlencoded"
            and form
            == {
                "grant_type": ["access_token"],
                "service": [HOST],
                "tenant": [TENANT],
                "access_token": [ENTRA_TOKEN],
            }
        )
        answer = {"refresh_token": REFRESH_TOKEN} if ok else {"errors": [{"code": "UNSUPPORTED", "message": "bad"}]}
        data = json.dumps(answer).encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


class StaticEntraToken:
    """Stands in for azure-identity's WorkloadIdentityCredential, whose Entra ID call needs the cloud."""

    class Token:
        token = ENTRA_TOKEN

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str) -> "StaticEntraToken.Token":
        self.scopes.append(scopes)
        return self.Token()


class AcrLogin(unittest.TestCase):
    def setUp(self) -> None:
        FakeAcr.requests = []
        self.server = HTTPServer(("127.0.0.1", 0), FakeAcr)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/oauth2/exchange"

    def tearDown(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def test_exchanges_the_entra_token_for_a_refresh_token_and_writes_the_auth_file(self) -> None:
        credential = StaticEntraToken()
        config = registry.acr_login(HOST, {"AZURE_TENANT_ID": TENANT}, credential=credential, exchange_url=self.url)
        self.assertEqual(credential.scopes, [("https://containerregistry.azure.net/.default",)])
        self.assertEqual(len(FakeAcr.requests), 1)
        self.assertEqual(FakeAcr.requests[0]["content_type"], "application/x-www-form-urlencoded")
        auth = base64.b64decode(config["auths"][HOST]["auth"]).decode()
        self.assertEqual(auth, f"00000000-0000-0000-0000-000000000000:{REFRESH_TOKEN}")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "auth.json")
            registry.write_auth_file(path, config)
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
            with open(path) as f:
                self.assertEqual(json.load(f), {"auths": {HOST: {"auth": config["auths"][HOST]["auth"]}}})

    def test_a_refused_exchange_is_a_registry_error(self) -> None:
        with self.assertRaisesRegex(registry.RegistryError, "refused the token exchange"):
            registry.acr_refresh_token(HOST, "another-tenant", ENTRA_TOKEN, url=self.url)
        self.assertEqual(FakeAcr.requests[0]["form"]["tenant"], ["another-tenant"])

    def test_without_workload_identity_the_login_says_what_is_missing(self) -> None:
        env = {"REGISTRY_LOGIN": "acr", "IMAGE_REPOSITORY": f"{HOST}/model-server", "AZURE_TENANT_ID": TENANT}
        with self.assertRaisesRegex(registry.RegistryError, "AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE not set"):
            registry.login(env)
        self.assertEqual(FakeAcr.requests, [], "nothing was sent")


class Logins(unittest.TestCase):
    def test_by_setting(self) -> None:
        self.assertEqual(set(registry.LOGINS), {"ecr", "acr", "none"})
        none = {"REGISTRY_LOGIN": "none", "IMAGE_REPOSITORY": "kind-registry:5000/model-server"}
        self.assertEqual(registry.login(none), {"auths": {}})
        with self.assertRaisesRegex(registry.RegistryError, "REGISTRY_LOGIN 'docker' is not supported"):
            registry.login({**none, "REGISTRY_LOGIN": "docker"})

    def test_hosts(self) -> None:
        self.assertEqual(
            registry.registry_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com/x/y"),
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        )
        self.assertEqual(registry.ecr_region("123456789012.dkr.ecr.eu-west-1.amazonaws.com"), "eu-west-1")
        self.assertIsNone(registry.ecr_region("registry.local:5000"))
        with self.assertRaisesRegex(registry.RegistryError, "not an ECR registry"):
            registry.ecr_login("registry.local:5000", {})
        self.assertEqual(registry.auth_config("h", "dTpw"), {"auths": {"h": {"auth": "dTpw"}}})


if __name__ == "__main__":
    unittest.main()
