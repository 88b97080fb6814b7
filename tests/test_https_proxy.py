"""HTTPS end to end: Debian's nginx, running the shipped deploy/nginx/waqti.conf.template with a
self-signed certificate, in front of gunicorn with the image's settings (waqti/gunicorn_conf.py).

Everything is checked through the proxy, as an ERP or a browser sees it: /api/v1/me over
verified TLS, plain HTTP redirected, HSTS, Secure cookies, the API's own 413 and 503 bodies,
and the client address the API logs and limits. Loopback addresses stand in for machines:
nginx listens on 127.0.0.2 and connects to gunicorn from 127.0.0.3 (the one trusted proxy);
clients connect from 127.0.0.7, .8 and .9; 127.0.0.1 and 127.0.0.5 reach gunicorn directly.

The certificate is made with the openssl command line (the ``cryptography`` package is not a
dependency of the project). About 50 s, most of it migrating the throwaway database.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from faults.servers import free_port
from tests.helpers import UNAUTHENTICATED
from tests.live_server import ROOT, gunicorn, manage, server_env, throwaway_database

pytestmark = pytest.mark.slow

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
OPENSSL = shutil.which("openssl")
if NGINX is None:
    pytest.skip(
        "nginx is missing: install Debian's nginx (apt-get install nginx)", allow_module_level=True
    )
if OPENSSL is None:
    pytest.skip(
        "openssl is missing: install Debian's openssl (apt-get install openssl)",
        allow_module_level=True,
    )

TEMPLATE = ROOT / "deploy" / "nginx" / "waqti.conf.template"
NGINX_ADDRESS = "127.0.0.2"  # where nginx listens
PROXY_ADDRESS = "127.0.0.3"  # where nginx connects to gunicorn from: WAQTI_TRUSTED_PROXIES
CLIENT, OTHER_CLIENT, SPOOFER = "127.0.0.7", "127.0.0.8", "127.0.0.9"
SLUG = f"tls{os.getpid()}"  # Redis counters are per tenant schema: a fresh one each run
HOST = "tls.localhost"
ADMIN_EMAIL = "admin@tls.example"
PASSWORD = "tls-admin-passphrase"
MAX_BODY_BYTES = 1024 * 1024  # WAQTI_MAX_BODY_BYTES, given to both gunicorn and nginx
HSTS = "max-age=31536000; includeSubDomains; preload"
GUARD_LIMIT = 100  # WAQTI_ANONYMOUS_RATE_PER_MINUTE
TOO_LARGE = {
    "message": "Request body too large.",
    "errors": {"body": [f"The request body must not be larger than {MAX_BODY_BYTES} bytes."]},
}


def render_site_config(*, https_port: int, http_port: int, upstream_port: int, tls: Path) -> str:
    """The shipped template as the official image renders it (its one variable substituted),
    then only what differs here: listening addresses and ports, the upstream address (and the
    address nginx connects from), the certificate paths."""
    text = TEMPLATE.read_text().replace("${WAQTI_MAX_BODY_BYTES}", str(MAX_BODY_BYTES))
    for old, new in [
        ("listen 80 default_server;", f"listen {NGINX_ADDRESS}:{http_port} default_server;"),
        (
            "listen 443 ssl default_server;",
            f"listen {NGINX_ADDRESS}:{https_port} ssl default_server;",
        ),
        ("https://$host$request_uri", f"https://$host:{https_port}$request_uri"),
        ("http://web:8000;", f"http://127.0.0.1:{upstream_port};"),
        ("proxy_pass $waqti_upstream;", f"proxy_pass $waqti_upstream; proxy_bind {PROXY_ADDRESS};"),
        ("/etc/nginx/tls/fullchain.pem", str(tls / "fullchain.pem")),
        ("/etc/nginx/tls/privkey.pem", str(tls / "privkey.pem")),
    ]:
        assert text.count(old) == 1, f"{TEMPLATE.name} no longer has exactly one {old!r}"
        text = text.replace(old, new)
    assert "${" not in text
    return text


def make_certificate(directory: Path) -> Path:
    """A self-signed certificate for HOST (its own CA) and its key; returns the certificate."""
    subprocess.run(
        [
            OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", f"/CN={HOST}",
            "-addext", f"subjectAltName=DNS:{HOST}",
            "-keyout", str(directory / "privkey.pem"), "-out", str(directory / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return directory / "fullchain.pem"


@dataclass(frozen=True)
class Proxy:
    https_port: int
    http_port: int
    tls: ssl.SSLContext  # trusts the self-signed certificate, and nothing else


@contextlib.contextmanager
def nginx(upstream_port: int) -> Iterator[Proxy]:
    """Debian's nginx in the foreground, every path of its own in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="waqti-nginx-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # nginx's workers drop root privileges and write their temp files here
        certificate = make_certificate(work)
        https_port, http_port = free_port(), free_port()
        (work / "waqti.conf").write_text(
            render_site_config(
                https_port=https_port, http_port=http_port, upstream_port=upstream_port, tls=work
            )
        )
        temp_paths = "\n".join(
            f"    {kind}_temp_path {work / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (work / "nginx.conf").write_text(
            f"worker_processes 1;\npid {work / 'nginx.pid'};\n"
            "events { worker_connections 128; }\n"
            f"http {{\n    access_log {work / 'access.log'};\n{temp_paths}\n"
            f"    include {work / 'waqti.conf'};\n}}\n"
        )
        error_log = work / "error.log"
        command = [NGINX, "-p", str(work), "-c", str(work / "nginx.conf"), "-e", str(error_log)]
        process = subprocess.Popen(
            [*command, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 15
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"nginx exited: {error_log.read_text()}")
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection((NGINX_ADDRESS, https_port), timeout=1),
                ):
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"nginx did not listen in 15 s: {error_log.read_text()}")
                time.sleep(0.1)
            yield Proxy(https_port, http_port, ssl.create_default_context(cafile=certificate))
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class TenantConnection(http.client.HTTPSConnection):
    """HTTPS to nginx's address, from ``source``, with the tenant's host name for SNI, the
    certificate check and the Host header."""

    def __init__(self, proxy: Proxy, source: str) -> None:
        super().__init__(
            HOST, proxy.https_port, timeout=30, source_address=(source, 0), context=proxy.tls
        )
        self.tls = proxy.tls

    def connect(self) -> None:
        sock = socket.create_connection(
            (NGINX_ADDRESS, self.port), self.timeout, self.source_address
        )
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def exchange(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    headers: dict[str, str],
    body: str | None = None,
) -> Answer:
    conn.request(method, path, body=body, headers={"Accept": "application/json", **headers})
    response = conn.getresponse()
    return Answer(response.status, response.msg, response.read())


def https(proxy: Proxy, method: str, path: str, *, source: str = CLIENT, **headers: str) -> Answer:
    conn = TenantConnection(proxy, source)
    try:
        return exchange(conn, method, path, headers)
    finally:
        conn.close()


def direct(port: int, source: str, path: str, **headers: str) -> Answer:
    """Plain HTTP straight to gunicorn, as a client that bypasses the proxy."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        return exchange(conn, "GET", path, {"Host": f"{HOST}:{port}", **headers})
    finally:
        conn.close()


def bearer(token: str) -> str:
    return f"Bearer {token}"


def cookie(answer: Answer, name: str) -> str:
    """The whole Set-Cookie line for ``name`` (attributes included)."""
    lines = [line for line in answer.headers.get_all("Set-Cookie") or [] if line.startswith(name)]
    assert len(lines) == 1, answer.headers.get_all("Set-Cookie")
    return lines[0]


def logged_entries(proxy: Proxy, token: str, request_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Activity-log rows by request id, read through the proxy, once all have been written
    (each worker writes its buffer at least once a second)."""
    deadline = time.monotonic() + 15
    while True:
        answer = https(proxy, "GET", "/api/v1/api-logs?per_page=100", Authorization=bearer(token))
        assert answer.status == 200, answer.body
        rows = {row["request_id"]: row for row in answer.json()["data"]}
        if request_ids <= rows.keys() or time.monotonic() > deadline:
            return rows
        time.sleep(0.3)


def test_https_through_nginx(django_db_blocker):
    database_name = f"waqti_tls_{os.getpid()}"
    with django_db_blocker.unblock(), throwaway_database(database_name) as database:
        env = server_env(
            database,
            DJANGO_SECURE_SSL_REDIRECT="1",
            WAQTI_TRUSTED_PROXIES=f"{PROXY_ADDRESS}/32",
            WAQTI_MAX_BODY_BYTES=str(MAX_BODY_BYTES),
        )
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "add_tenant", SLUG, "--name", "TLS", "--domain", HOST, "--plan", "ultimate")
        manage(env, "create_tenant_admin", SLUG, "--email", ADMIN_EMAIL, "--password", PASSWORD)
        token = manage(env, "issue_token", SLUG, "--name", "ERP", "--abilities", "admin").strip()
        upstream_port = free_port()
        with nginx(upstream_port) as proxy:
            with gunicorn(env, workers=2, port=upstream_port, production_config=True):
                check_api_over_verified_tls(proxy, token)
                check_plain_http_is_redirected(proxy)
                check_cookies_are_secure(proxy)
                check_the_client_address_is_the_real_clients(proxy, token)
                check_bodies_over_the_limit_get_the_apis_413(proxy, token, upstream_port)
                check_direct_clients_cannot_claim_https(upstream_port, token)
            # gunicorn is gone: nginx answers with the API's 503, not its own HTML page.
            answer = https(proxy, "GET", "/api/v1/me", Authorization=bearer(token))
            assert (answer.status, answer.json()) == (
                503,
                {"message": "Service temporarily unavailable.", "errors": {}},
            )
            assert answer.headers["Retry-After"] == "5"


def check_api_over_verified_tls(proxy: Proxy, token: str) -> None:
    answer = https(proxy, "GET", "/api/v1/me", Authorization=bearer(token))
    assert answer.status == 200, answer.body
    assert answer.json()["data"]["tenant_id"] == SLUG
    assert answer.headers.get_all("Strict-Transport-Security") == [HSTS]
    # Not every answer is a success: errors carry HSTS too.
    answer = https(proxy, "GET", "/api/v1/me")
    assert (answer.status, answer.json()) == (401, UNAUTHENTICATED)
    assert answer.headers.get_all("Strict-Transport-Security") == [HSTS]
    # The certificate really is checked: a client that does not trust it is refused.
    with pytest.raises(ssl.SSLCertVerificationError):
        https(Proxy(proxy.https_port, proxy.http_port, ssl.create_default_context()), "GET", "/")


def check_plain_http_is_redirected(proxy: Proxy) -> None:
    for method in ("GET", "POST"):
        conn = http.client.HTTPConnection(
            NGINX_ADDRESS, proxy.http_port, timeout=30, source_address=(CLIENT, 0)
        )
        try:
            answer = exchange(
                conn, method, "/api/v1/me?page=2", {"Host": f"{HOST}:{proxy.http_port}"}
            )
        finally:
            conn.close()
        assert answer.status == 308, (method, answer.status)
        assert answer.headers["Location"] == f"https://{HOST}:{proxy.https_port}/api/v1/me?page=2"
        assert "Strict-Transport-Security" not in answer.headers  # never over plain HTTP


def check_cookies_are_secure(proxy: Proxy) -> None:
    page = https(proxy, "GET", "/settings/login/", Accept="text/html")
    assert page.status == 200
    csrf_cookie = cookie(page, "csrftoken=")
    assert "; Secure" in csrf_cookie, csrf_cookie
    csrf = re.search(r"csrftoken=([^;]+)", csrf_cookie).group(1)
    form_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body.decode())
    conn = TenantConnection(proxy, CLIENT)
    try:
        login = exchange(
            conn,
            "POST",
            "/settings/login/",
            {
                "Cookie": f"csrftoken={csrf}",
                "Content-Type": "application/x-www-form-urlencoded",
                # Django checks the origin of a form posted over HTTPS against the Host nginx
                # forwards, port included.
                "Referer": f"https://{HOST}:{proxy.https_port}/settings/login/",
            },
            urlencode(
                {
                    "csrfmiddlewaretoken": form_token.group(1),
                    "username": ADMIN_EMAIL,
                    "password": PASSWORD,
                }
            ),
        )
    finally:
        conn.close()
    assert login.status == 302, login.body[:500]
    session_cookie = cookie(login, "sessionid=")
    assert "; Secure" in session_cookie and "; HttpOnly" in session_cookie, session_cookie


def check_the_client_address_is_the_real_clients(proxy: Proxy, token: str) -> None:
    # Logged: the client's address, not the proxy's, and not what a client claims to be.
    https(proxy, "GET", "/api/v1/me", Authorization=bearer(token), **{"X-Request-ID": "tls-me"})
    https(
        proxy,
        "GET",
        "/api/v1/me",
        source=SPOOFER,
        Authorization=bearer(token),
        **{"X-Request-ID": "tls-spoof", "X-Forwarded-For": "203.0.113.66"},
    )
    rows = logged_entries(proxy, token, {"tls-me", "tls-spoof"})
    assert rows["tls-me"]["ip_address"] == CLIENT
    assert rows["tls-spoof"]["ip_address"] == SPOOFER

    # Limited: the per-IP guard counts each client on its own. One keep-alive connection spends
    # CLIENT's minute (at most two windows' worth if the minute turns over meanwhile)...
    conn = TenantConnection(proxy, CLIENT)
    try:
        statuses = []
        while 429 not in statuses and len(statuses) <= 2 * GUARD_LIMIT:
            statuses.append(
                exchange(conn, "GET", "/api/v1/me", {"Authorization": "Bearer 999|wrong"}).status
            )
    finally:
        conn.close()
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}, statuses
    # ... and another client, or one claiming to be CLIENT, is still only told its token is bad.
    bad = {"Authorization": "Bearer 999|wrong"}
    assert https(proxy, "GET", "/api/v1/me", source=OTHER_CLIENT, **bad).status == 401
    spoofed = {**bad, "X-Forwarded-For": OTHER_CLIENT}
    assert https(proxy, "GET", "/api/v1/me", source=SPOOFER, **spoofed).status == 401
    # CLIENT's window is still spent: the 401s above were not a window turning over.
    assert https(proxy, "GET", "/api/v1/me", **bad).status == 429


def check_bodies_over_the_limit_get_the_apis_413(
    proxy: Proxy, token: str, upstream_port: int
) -> None:
    """nginx refuses a Content-Length over WAQTI_MAX_BODY_BYTES itself, with the body the API
    gives for it; the API alone gives the same."""
    head = {
        "Authorization": bearer(token),
        "Content-Type": "application/json",
        "Content-Length": str(MAX_BODY_BYTES + 1),
    }
    answers = []
    for conn, extra in (
        (TenantConnection(proxy, CLIENT), {"Host": f"{HOST}:{proxy.https_port}"}),
        # The API alone, as the proxy would reach it (so it is not redirected to HTTPS first).
        (
            http.client.HTTPConnection(
                "127.0.0.1", upstream_port, timeout=30, source_address=(PROXY_ADDRESS, 0)
            ),
            {"Host": f"{HOST}:{upstream_port}", "X-Forwarded-Proto": "https"},
        ),
    ):
        try:
            conn.putrequest("POST", "/api/v1/tokens", skip_host=True, skip_accept_encoding=True)
            for name, value in {**head, **extra}.items():
                conn.putheader(name, value)
            conn.endheaders()  # no body sent: both refuse on the announced length
            response = conn.getresponse()
            answers.append((response.status, json.loads(response.read())))
        finally:
            conn.close()
    assert answers == [(413, TOO_LARGE), (413, TOO_LARGE)]


def check_direct_clients_cannot_claim_https(upstream_port: int, token: str) -> None:
    """Bypassing nginx and claiming HTTPS does not work: not from gunicorn's own default
    trusted address (127.0.0.1, which waqti/gunicorn_conf.py turns off), nor from elsewhere.
    Only the trusted proxy's word is taken."""
    for source in ("127.0.0.1", "127.0.0.5"):
        answer = direct(upstream_port, source, "/api/v1/me", **{"X-Forwarded-Proto": "https"})
        assert answer.status == 301, (source, answer.status)
        assert answer.headers["Location"] == f"https://{HOST}:{upstream_port}/api/v1/me"
        assert "Strict-Transport-Security" not in answer.headers
    answer = direct(
        upstream_port,
        PROXY_ADDRESS,
        "/api/v1/me",
        Authorization=bearer(token),
        **{"X-Forwarded-Proto": "https"},
    )
    assert answer.status == 200, answer.body
    assert answer.headers.get_all("Strict-Transport-Security") == [HSTS]
