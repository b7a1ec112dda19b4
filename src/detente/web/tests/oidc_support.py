"""A real OpenID provider on loopback for the SSO tests: panva's certified ``oidc-provider`` (npm),
configured by ``oidc_provider/provider.mjs`` and started here as a node process.

Its packages are installed by ``npm ci`` from the committed ``package-lock.json``: by ``.ci/run``
before the suite on a fresh clone, and by ``start_provider`` itself when ``node_modules`` is
missing (a developer's first run). Without node or npm the tests fail on CI and skip elsewhere.

The provider signs with a key made here (so a test can also sign a token as the provider would,
to try claims the real flow cannot produce: a wrong audience). People and their groups live in a
JSON file the provider reads at every look-up: ``Provider.set_account`` moves someone between
groups between two sign-ins."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from joserfc.jwk import RSAKey

HERE = Path(__file__).parent / "oidc_provider"
CLIENT_ID = "detente"
CLIENT_SECRET = "detente-test-client-secret"
KID = "detente-test-key-1"
GROUP_ROLES = {
    "detente-ciso": "ciso",
    "detente-cio": "cio",
    "detente-engineers": "engineer",
    "detente-audit": "auditor",
}


@dataclass
class Provider:
    issuer: str
    port: int
    accounts_file: Path
    key: RSAKey

    def set_account(
        self,
        login: str,
        *,
        email: str,
        name: str,
        groups: Sequence[str],
        groups_source: str = "",
    ) -> None:
        """``groups_source``: the token names that URL for the groups instead of listing them
        (Entra ID's group overage); ``groups`` are then only what that endpoint serves."""
        accounts = json.loads(self.accounts_file.read_text())
        accounts[login] = {"email": email, "name": name, "groups": list(groups)}
        if groups_source:
            accounts[login]["groups_source"] = groups_source
        self.accounts_file.write_text(json.dumps(accounts))

    def configure(self, settings: Any, **overrides: Any) -> None:
        """Point Détente's settings at this provider (pytest-django's ``settings`` fixture)."""
        from detente.access import oidc

        oidc._providers.clear()  # another test's provider may have had this port
        values = {
            "DETENTE_OIDC_ISSUER": self.issuer,
            "DETENTE_OIDC_CLIENT_ID": CLIENT_ID,
            "DETENTE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "DETENTE_OIDC_SCOPES": "openid email profile groups",
            "DETENTE_OIDC_GROUPS_CLAIM": "groups",
            "DETENTE_OIDC_GROUP_ROLES": json.dumps(GROUP_ROLES),
            "DETENTE_OIDC_GROUP_ROLES_FILE": "",
            "DETENTE_OIDC_PROVIDER_NAME": "Test IdP",
            "DETENTE_OIDC_REDIRECT_URI": "",
            "DETENTE_OIDC_TIMEOUT_SECONDS": 10,
            "DETENTE_PASSWORD_SIGNIN": True,
        }
        for name, value in (values | overrides).items():
            setattr(settings, name, value)


def _tooling() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = "node and npm are needed for the test OpenID provider (apt-get install nodejs npm)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return node, npm


def _install(npm: str) -> None:
    if (HERE / "node_modules" / "oidc-provider").exists():
        return
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=HERE, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"npm ci in {HERE} failed:\n{done.stderr[-2000:]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def start_provider(
    folder: Path, redirect_uris: Sequence[str], post_logout_redirect_uris: Sequence[str] = ()
) -> Iterator[Provider]:
    node, npm = _tooling()
    _install(npm)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    key = RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig", "alg": "RS256"})
    jwks_file, accounts_file = folder / "jwks.json", folder / "accounts.json"
    jwks_file.write_text(json.dumps({"keys": [key.as_dict(private=True)]}))
    accounts_file.write_text("{}")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "OIDC_PORT": str(port),
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_REDIRECT_URIS": " ".join(redirect_uris),
        "OIDC_POST_LOGOUT_REDIRECT_URIS": " ".join(post_logout_redirect_uris),
        "OIDC_JWKS_FILE": str(jwks_file),
        "OIDC_ACCOUNTS_FILE": str(accounts_file),
        "NODE_ENV": "test",
    }
    log = (folder / "provider.log").open("w")
    process = subprocess.Popen(
        [node, str(HERE / "provider.mjs")], cwd=HERE, env=env, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_until_up(issuer, process, folder / "provider.log")
        yield Provider(issuer=issuer, port=port, accounts_file=accounts_file, key=key)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _wait_until_up(issuer: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the test OpenID provider exited:\n{log.read_text()[-2000:]}")
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail(f"the test OpenID provider did not start in 30 s:\n{log.read_text()[-2000:]}")


# ------------------------------------------------------------------------------ a user agent


_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_INPUT = re.compile(r"<input([^>]*)>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def at_provider(
    authorization_url: str,
    *,
    login: str,
    redirect_uri: str,
    agent: requests.Session | None = None,
) -> str:
    """Do what a person does at the provider (its own login page, then its consent page) with a
    plain HTTP client; return the URL it sends the browser back to (``redirect_uri?code=…``).
    Pass ``agent`` to keep the provider's session cookie between visits (single logout)."""
    agent = agent if agent is not None else requests.Session()
    url = authorization_url
    for _ in range(12):
        if url.startswith(redirect_uri):
            return url
        response = agent.get(url, allow_redirects=False, timeout=10)
        if not response.is_redirect:
            form = _FORM.search(response.text)
            if form is None:
                raise AssertionError(f"no form at {url}: {response.status_code} {response.text}")
            fields: dict[str, str] = {}
            for tag in _INPUT.findall(form.group(2)):
                attrs = dict(_ATTR.findall(tag))
                if attrs.get("type") == "hidden" and "name" in attrs:
                    fields[attrs["name"]] = unescape(attrs.get("value", ""))
            if fields.get("prompt") == "login":
                fields |= {"login": login, "password": "any password"}
            if "xsrf" in fields and "prompt" not in fields:  # the logout page: "Yes, sign me out"
                fields["logout"] = "yes"
            response = agent.post(
                urljoin(url, unescape(form.group(1))), data=fields, allow_redirects=False,
                timeout=10,
            )  # fmt: skip
        url = urljoin(url, response.headers["location"])
    raise AssertionError(f"the provider never sent the browser back to {redirect_uri}")


# ------------------------------------------------------------------------------ a groups endpoint


@contextmanager
def groups_server(provider: Provider) -> Iterator[str]:
    """A Graph-style ``POST /v1.0/me/getMemberObjects`` on loopback, for Entra ID's group
    overage: it asks the provider's userinfo endpoint who the bearer token belongs to (a real
    token check, over HTTP) and answers that account's groups, one per page with
    ``@odata.nextLink``. Yields the endpoint's URL."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    userinfo = requests.get(
        f"{provider.issuer}/.well-known/openid-configuration", timeout=10
    ).json()["userinfo_endpoint"]

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _groups(self) -> list[str] | None:
            auth = self.headers.get("Authorization", "")
            who = requests.get(userinfo, headers={"Authorization": auth}, timeout=10)
            if not auth.startswith("Bearer ") or not who.ok:
                return None
            account = json.loads(provider.accounts_file.read_text()).get(who.json()["sub"], {})
            return list(account.get("groups", []))

        def _page(self, index: int) -> None:
            groups = self._groups()
            if groups is None:
                self._answer(401, {"error": {"code": "InvalidAuthenticationToken"}})
                return
            body: dict[str, Any] = {"value": groups[index : index + 1]}
            if index + 1 < len(groups):
                body["@odata.nextLink"] = f"{base}/v1.0/page/{index + 1}"
            self._answer(200, body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            sent = json.loads(self.rfile.read(length) or b"{}")
            if self.path != "/v1.0/me/getMemberObjects" or "securityEnabledOnly" not in sent:
                self._answer(400, {"error": {"code": "BadRequest"}})
                return
            self._page(0)

        def do_GET(self) -> None:
            prefix = "/v1.0/page/"
            if not self.path.startswith(prefix):
                self._answer(404, {"error": {"code": "NotFound"}})
                return
            self._page(int(self.path[len(prefix) :]))

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{base}/v1.0/me/getMemberObjects"
    finally:
        server.shutdown()
        server.server_close()
