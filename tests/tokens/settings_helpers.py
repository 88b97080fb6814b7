"""Helpers of the Settings page tests: a tenant admin's browser, pages, tokens shown."""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from tenancy.models import Tenant
from tokens.models import ApiToken
from tokens.settings_ui.accounts import tenant_admin_create

HOST = "acme.localhost"
ADMIN_EMAIL = "admin@acme.example"
ADMIN_PASSWORD = "correct-horse-battery"
TOKEN_PATTERN = re.compile(r"\b(\d+)\|([A-Za-z0-9]{40})\b")


def make_user(tenant: Tenant, email: str, *, admin: bool = True) -> None:
    with tenant_context(tenant):
        created = tenant_admin_create(email=email, password=ADMIN_PASSWORD)
        if not admin:
            created.user.is_staff = False
            created.user.is_superuser = False
            created.user.save()
    connection.set_schema_to_public()


def browser(*, csrf: bool = False, language: str | None = None) -> Client:
    client = Client(enforce_csrf_checks=csrf, HTTP_HOST=HOST)
    if language:
        client.cookies["django_language"] = language
    return client


def log_in(client: Client, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> Any:
    response = client.post("/settings/login/", {"username": email, "password": password})
    connection.set_schema_to_public()
    return response


def admin_browser(tenant: Tenant) -> Client:
    """A browser logged in to ``tenant``'s Settings as its tenant admin (created here)."""
    make_user(tenant, ADMIN_EMAIL)
    client = browser()
    assert log_in(client).status_code == 302
    return client


def page(client: Client, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
    response = getattr(client, method)(path, data or {})
    connection.set_schema_to_public()
    return response


def token_row(tenant: Tenant, token_id: int) -> ApiToken:
    with tenant_context(tenant):
        token = ApiToken.objects.get(pk=token_id)
    connection.set_schema_to_public()
    return token


def create_token(
    client: Client, name: str = "ERP Integration", abilities: tuple[str, ...] = ("read",)
) -> tuple[int, Any]:
    response = page(
        client,
        "post",
        "/settings/api/tokens/new/",
        {"name": name, "abilities": list(abilities), "expires_at": ""},
    )
    assert response.status_code == 302
    token_id = int(re.search(r"/tokens/(\d+)/issued/", response["Location"]).group(1))
    return token_id, response


def shown_token(response: Any) -> str:
    match = TOKEN_PATTERN.search(response.content.decode())
    assert match, "no plaintext token on the page"
    return match.group(0)
