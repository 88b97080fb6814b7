"""Content-Security-Policy: on the Settings pages (they show secrets) and both admin sites;
not on the JSON API or its Swagger page (excluded on purpose, see settings)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from tests.helpers import issue_token
from tokens.settings_ui.accounts import tenant_admin_create
from tokens.tasks import prune_tokens

PASSWORD = "correct-horse-battery"
DIRECTIVES = [
    "default-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "img-src 'self'",
]


def get(client: Client, path: str, **data: Any) -> Any:
    response = client.get(path, data)
    connection.set_schema_to_public()
    return response


def post(client: Client, path: str, data: dict[str, Any]) -> Any:
    response = client.post(path, data)
    connection.set_schema_to_public()
    return response


def policy(response: Any) -> dict[str, str]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, _, sources = part.strip().partition(" ")
        directives[name] = sources
    return directives


def assert_strict_policy(response: Any) -> None:
    header = response["Content-Security-Policy"]
    for directive in DIRECTIVES:
        assert directive in header, (directive, header)
    directives = policy(response)
    for name in ("script-src", "style-src"):
        sources = directives[name].split()
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources
        assert all(s == "'self'" or s.startswith("'nonce-") for s in sources), sources


def assert_inline_code_carries_the_nonce(response: Any) -> None:
    """Every inline <script>/<style> has the response's nonce; no inline event handlers or
    style attributes (the policy would block them)."""
    body = response.content.decode()
    directives = policy(response)
    nonces = set(re.findall(r"'nonce-([^']+)'", directives.get("script-src", "")))
    nonces |= set(re.findall(r"'nonce-([^']+)'", directives.get("style-src", "")))
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", body):
        if "src=" in tag:
            continue
        found = re.search(r'nonce="([^"]+)"', tag)
        assert found and found.group(1) in nonces, tag
    assert not re.search(r"<[^>]+\son[a-z]+=", body)
    assert not re.search(r"<[^>]+\sstyle=", body)


@pytest.fixture
def settings_admin(acme: Any) -> Client:
    with tenant_context(acme):
        tenant_admin_create(email="owner@acme.example", password=PASSWORD)
    connection.set_schema_to_public()
    client = Client(HTTP_HOST="acme.localhost")
    login = post(
        client, "/settings/login/", {"username": "owner@acme.example", "password": PASSWORD}
    )
    assert login.status_code == 302
    return client


def test_settings_login_page_has_the_policy(acme):
    response = get(Client(HTTP_HOST="acme.localhost"), "/settings/login/")
    assert response.status_code == 200
    assert_strict_policy(response)
    assert_inline_code_carries_the_nonce(response)
    assert "'nonce-" in policy(response)["style-src"]  # the page's stylesheet is inline


def test_every_settings_page_has_the_policy_and_nonced_inline_code(settings_admin, acme):
    token_id = int(issue_token(acme, ["read"], name="Shown").split("|")[0])
    created = post(
        settings_admin, "/settings/api/tokens/new/", {"name": "New", "abilities": ["read"]}
    )
    issued = get(settings_admin, created["Location"])
    assert "<script nonce=" in issued.content.decode()  # the Copy button
    pages = [
        issued,
        get(settings_admin, "/settings/api/"),
        get(settings_admin, "/settings/api/tokens/new/"),
        get(settings_admin, f"/settings/api/tokens/{token_id}/activity/"),
        get(settings_admin, f"/settings/api/tokens/{token_id}/revoke/"),
        get(settings_admin, f"/settings/api/tokens/{token_id}/regenerate/"),
    ]
    for response in pages:
        assert response.status_code == 200
        assert_strict_policy(response)
        assert_inline_code_carries_the_nonce(response)
    assert len({policy(r)["style-src"] for r in pages}) == len(pages)  # a fresh nonce each time


def test_refused_login_and_403_pages_have_the_policy(acme, settings):
    settings.WAQTI_PASSWORD_ATTEMPTS_PER_ACCOUNT = (1, 900)
    client = Client(HTTP_HOST="acme.localhost")
    data = {"username": "nobody@acme.example", "password": "wrong-password"}
    post(client, "/settings/login/", data)
    refused = post(client, "/settings/login/", data)
    assert refused.status_code == 429
    assert_strict_policy(refused)
    assert_inline_code_carries_the_nonce(refused)


@pytest.mark.parametrize("host", ["acme.localhost", "localhost"])
def test_admin_login_pages_have_the_policy(acme, host):
    response = get(Client(HTTP_HOST=host), "/admin/login/")
    assert response.status_code == 200
    assert_strict_policy(response)
    assert_inline_code_carries_the_nonce(response)


def test_tenant_admin_pages_work_under_the_policy(settings_admin, acme):
    issue_token(acme, ["read"], name="Listed")
    for path in (
        "/admin/",
        "/admin/tokens/apitoken/",
        "/admin/tokens/apitoken/add/",
        "/admin/tokens/tokenevent/",
        "/admin/procurement/vendor/",
        "/admin/procurement/vendor/add/",
        "/admin/procurement/purchaseorder/",
    ):
        response = get(settings_admin, path)
        assert response.status_code == 200, path
        assert_strict_policy(response)
        assert_inline_code_carries_the_nonce(response)


def test_operators_admin_pages_work_under_the_policy(acme):
    get_user_model().objects.create_superuser("operator", "ops@waqti.example", PASSWORD)
    client = Client(HTTP_HOST="localhost")
    assert post(client, "/admin/login/", {"username": "operator", "password": PASSWORD}).status_code
    job = prune_tokens.defer(timestamp=0)  # the job queue's pages too
    for path in (
        "/admin/",
        "/admin/tenancy/tenant/",
        f"/admin/tenancy/tenant/{acme.pk}/change/",
        "/admin/procrastinate/procrastinatejob/",
        f"/admin/procrastinate/procrastinatejob/{job}/change/",
    ):
        response = get(client, path)
        assert response.status_code == 200, path
        assert_strict_policy(response)
        assert_inline_code_carries_the_nonce(response)


def test_the_api_and_its_swagger_page_have_no_policy(acme, api):
    token = issue_token(acme, ["read"])
    me = api(acme, token).get("/api/v1/me")
    assert me.status_code == 200
    assert "Content-Security-Policy" not in me
    docs = api(acme).get("/api/v1/docs/")
    assert docs.status_code == 200
    assert "Content-Security-Policy" not in docs
    assert "<script>" in docs.content.decode()  # Swagger UI's inline start-up script
    schema = api(acme).get("/api/v1/schema/")
    assert "Content-Security-Policy" not in schema


def test_the_unprotected_swagger_page_keeps_no_token_in_the_browser(acme, api):
    """With no CSP on /api/v1/docs/, a pasted token must not be persisted in localStorage."""
    body = api(acme).get("/api/v1/docs/").content.decode()
    assert '"persistAuthorization": false' in body
    assert '"persistAuthorization": true' not in body
