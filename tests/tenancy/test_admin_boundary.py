"""The Django admin keeps to the tenant boundary: tenant admins see only their own data, operators
manage the registry on the public host only, and tenant admins are not superusers."""

from __future__ import annotations

import importlib
import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from tenancy.models import Domain, Tenant
from tests.helpers import issue_token
from tokens.settings_ui.accounts import (
    TENANT_ADMIN_GROUP,
    TENANT_ADMIN_PERMISSIONS,
    is_tenant_admin,
    tenant_admin_create,
)

ADMIN_EMAIL = "owner@acme.example"
PASSWORD = "correct-horse-battery"
OTHER_TENANTS = ("globex", "initech", "Globex Trading", "Initech Saudi")


def request(client: Client, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
    response = getattr(client, method)(path, data or {})
    connection.set_schema_to_public()
    return response


@pytest.fixture
def tenant_admin(acme: Tenant) -> Client:
    """ACME's own admin, created by the real service and logged in at acme.localhost/admin/."""
    with tenant_context(acme):
        tenant_admin_create(email=ADMIN_EMAIL, password=PASSWORD)
    connection.set_schema_to_public()
    client = Client(HTTP_HOST="acme.localhost")
    login = request(
        client, "post", "/admin/login/", {"username": ADMIN_EMAIL, "password": PASSWORD}
    )
    assert login.status_code == 302, login.content.decode()[:500]
    return client


@pytest.fixture
def operator(db: None) -> Client:
    """A platform operator (superuser of the public schema) logged in at localhost/admin/."""
    connection.set_schema_to_public()
    get_user_model().objects.create_superuser("operator", "ops@waqti.example", PASSWORD)
    client = Client(HTTP_HOST="localhost")
    login = request(client, "post", "/admin/login/", {"username": "operator", "password": PASSWORD})
    assert login.status_code == 302, login.content.decode()[:500]
    return client


def registry_urls(acme: Tenant, globex: Tenant) -> list[str]:
    globex_domain = Domain.objects.get(tenant=globex)
    return [
        "/admin/tenancy/",
        "/admin/tenancy/tenant/",
        "/admin/tenancy/tenant/add/",
        f"/admin/tenancy/tenant/{acme.pk}/change/",
        f"/admin/tenancy/tenant/{globex.pk}/change/",
        f"/admin/tenancy/tenant/{globex.pk}/delete/",
        f"/admin/tenancy/tenant/{globex.pk}/history/",
        "/admin/tenancy/domain/",
        "/admin/tenancy/domain/add/",
        f"/admin/tenancy/domain/{globex_domain.pk}/change/",
        f"/admin/tenancy/domain/{globex_domain.pk}/delete/",
        "/admin/auth/user/",
        "/admin/auth/group/",
        "/admin/auth/user/1/change/",
    ]


def plan_limit(tenant: Tenant) -> str:
    """The tenant's plan as an ERP client sees it: the per-minute limit on an API response."""
    response = Client().get(
        "/api/v1/me",
        HTTP_HOST=tenant.get_primary_domain().domain,
        HTTP_AUTHORIZATION=f"Bearer {issue_token(tenant, ['read'])}",
    )
    connection.set_schema_to_public()
    assert response.status_code == 200
    return response["X-RateLimit-Limit"]


def assert_no_other_tenant(path: str, response: Any) -> None:
    body = response.content.decode()
    for name in OTHER_TENANTS:
        assert name.lower() not in body.lower(), f"{name} appears on {path}"


# --- Tenant host ---------------------------------------------------------------------------------


def test_tenant_admin_gets_404_for_every_registry_url_get_and_post(tenant_admin, acme, globex):
    assert plan_limit(acme) == "60"  # professional
    for path in registry_urls(acme, globex):
        for method in ("get", "post"):
            response = request(tenant_admin, method, path, {"post": "yes"})
            assert response.status_code == 404, (method, path, response.status_code)
            assert_no_other_tenant(path, response)
    assert Tenant.objects.filter(slug="globex").exists()
    assert Domain.objects.filter(domain="globex.localhost", tenant=globex).exists()


def test_anonymous_visitors_of_registry_urls_only_get_the_login_page(acme, globex):
    client = Client(HTTP_HOST="acme.localhost")
    for path in registry_urls(acme, globex):
        for method in ("get", "post"):
            response = request(client, method, path, {"post": "yes"})
            assert response.status_code == 302, (method, path)
            assert response["Location"].startswith("/admin/login/?next=")
    assert Tenant.objects.filter(slug="globex").exists()


def test_tenant_admin_cannot_raise_its_own_plan_or_move_another_tenants_domain(
    tenant_admin, acme, globex
):
    acme_domain = Domain.objects.get(tenant=acme)
    globex_domain = Domain.objects.get(tenant=globex)
    raise_plan = {
        "slug": acme.slug,
        "name": acme.name,
        "plan": "ultimate",
        "domains-TOTAL_FORMS": "1",
        "domains-INITIAL_FORMS": "1",
        "domains-MIN_NUM_FORMS": "0",
        "domains-MAX_NUM_FORMS": "1000",
        "domains-0-id": str(acme_domain.pk),
        "domains-0-tenant": str(acme.pk),
        "domains-0-domain": acme_domain.domain,
        "domains-0-is_primary": "on",
    }
    response = request(tenant_admin, "post", f"/admin/tenancy/tenant/{acme.pk}/change/", raise_plan)
    assert response.status_code == 404
    repoint = {"domain": "hijacked.localhost", "tenant": str(acme.pk), "is_primary": "on"}
    response = request(
        tenant_admin, "post", f"/admin/tenancy/domain/{globex_domain.pk}/change/", repoint
    )
    assert response.status_code == 404
    response = request(
        tenant_admin, "post", f"/admin/tenancy/domain/{globex_domain.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 404

    assert plan_limit(acme) == "60"  # still professional
    assert plan_limit(globex) == "120"  # globex is still served at its own host
    assert Domain.objects.get(pk=globex_domain.pk).domain == "globex.localhost"


def admin_links(body: str) -> set[str]:
    return {
        link
        for link in re.findall(r'href="(/admin/[^"?#]*)"', body)
        if not link.startswith(("/admin/logout", "/admin/password_change", "/admin/jsi18n"))
    }


def test_walking_the_tenant_admin_never_shows_another_tenant(tenant_admin, acme, globex, initech):
    for tenant in (globex, initech):
        issue_token(tenant, ["read"], name=f"{tenant.slug} token")
    issue_token(acme, ["read"], name="Acme token")
    index = request(tenant_admin, "get", "/admin/")
    assert index.status_code == 200
    body = index.content.decode()
    assert "Acme token" not in body  # (the index lists models, not rows)
    assert "/admin/tenancy/" not in body
    assert "/admin/auth/" not in body
    seen: set[str] = set()
    queue = sorted(admin_links(body))
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        response = request(tenant_admin, "get", path)
        assert response.status_code == 200, path
        assert_no_other_tenant(path, response)
        # Follow the index, app indexes, changelists and add pages (not every row's links).
        if re.fullmatch(r"/admin/(\w+/)?(\w+/)?(add/)?", path):
            queue.extend(sorted(admin_links(response.content.decode()) - seen))
    changelists = {p for p in seen if re.fullmatch(r"/admin/\w+/\w+/", p)}
    assert changelists == {
        "/admin/tokens/apitoken/",
        "/admin/tokens/tokenevent/",
        "/admin/procurement/department/",
        "/admin/procurement/vendor/",
        "/admin/procurement/purchaseorder/",
    }
    assert "/admin/tokens/apitoken/add/" in seen
    token_list = request(tenant_admin, "get", "/admin/tokens/apitoken/")
    assert "Acme token" in token_list.content.decode()


def test_shortcut_and_autocomplete_do_not_reach_the_registry(tenant_admin, acme, globex):
    with tenant_context(acme):
        tenant_type = ContentType.objects.get_for_model(Tenant).pk
    connection.set_schema_to_public()
    response = request(tenant_admin, "get", f"/admin/r/{tenant_type}/{globex.pk}/")
    assert response.status_code == 404
    assert_no_other_tenant("/admin/r/", response)
    # Nor the autocomplete endpoint (it serves only models registered on the site).
    for model, field in (("domain", "tenant"), ("tenant", "domains")):
        response = request(
            tenant_admin,
            "get",
            "/admin/autocomplete/",
            {"app_label": "tenancy", "model_name": model, "field_name": field, "term": "g"},
        )
        assert response.status_code == 403
        assert_no_other_tenant("/admin/autocomplete/", response)


def test_tenant_admin_is_staff_with_the_group_not_a_superuser(tenant_admin, acme):
    with tenant_context(acme):
        user = get_user_model().objects.get(username=ADMIN_EMAIL)
        assert user.is_staff and user.is_active
        assert not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [TENANT_ADMIN_GROUP]
        assert user.get_all_permissions() == set(TENANT_ADMIN_PERMISSIONS)
        assert not any(p.startswith(("auth.", "tenancy.")) for p in user.get_all_permissions())


def test_tenant_admin_still_uses_settings_and_its_own_admin_screens(tenant_admin, acme):
    for path in (
        "/settings/api/",
        "/settings/api/tokens/new/",
        "/admin/",
        "/admin/tokens/apitoken/",
        "/admin/tokens/apitoken/add/",
        "/admin/tokens/tokenevent/",
        "/admin/procurement/vendor/",
        "/admin/procurement/vendor/add/",
        "/admin/procurement/purchaseorder/",
        "/admin/password_change/",
    ):
        assert request(tenant_admin, "get", path).status_code == 200, path


def test_staff_flag_alone_opens_neither_settings_nor_any_admin_screen(acme):
    with tenant_context(acme):
        get_user_model().objects.create_user("clerk@acme.example", password=PASSWORD, is_staff=True)
    connection.set_schema_to_public()
    client = Client(HTTP_HOST="acme.localhost")
    request(
        client, "post", "/admin/login/", {"username": "clerk@acme.example", "password": PASSWORD}
    )
    assert request(client, "get", "/settings/api/").status_code == 403
    assert request(client, "get", "/admin/tokens/apitoken/").status_code == 403
    index = request(client, "get", "/admin/")
    assert index.status_code == 200
    assert "/admin/tokens/" not in index.content.decode()


# --- Public host (operators) ---------------------------------------------------------------------


def test_operators_manage_tenants_and_domains_on_the_public_host(operator, acme, globex):
    listing = request(operator, "get", "/admin/tenancy/tenant/")
    assert listing.status_code == 200
    for slug in ("acme-corp", "globex", "initech"):
        assert slug in listing.content.decode()
    assert request(operator, "get", "/admin/tenancy/domain/").status_code == 200
    assert request(operator, "get", "/admin/auth/user/").status_code == 200
    globex_domain = Domain.objects.get(tenant=globex)
    response = request(
        operator,
        "post",
        f"/admin/tenancy/domain/{globex_domain.pk}/change/",
        {"domain": "globex2.localhost", "tenant": str(globex.pk), "is_primary": "on"},
    )
    assert response.status_code == 302
    assert Domain.objects.get(pk=globex_domain.pk).domain == "globex2.localhost"


def test_public_host_admin_offers_no_tenant_models(operator):
    for path in ("/admin/tokens/apitoken/", "/admin/procurement/vendor/"):
        assert request(operator, "get", path).status_code == 404, path
    index = request(operator, "get", "/admin/").content.decode()
    assert "/admin/tenancy/tenant/" in index
    assert "/admin/tokens/" not in index


# --- Existing tenant admins (superusers before this change) --------------------------------------

DEMOTION = importlib.import_module("tokens.migrations.0003_tenant_admins_not_superusers")


def test_every_tenant_schema_has_the_group_with_exactly_its_permissions(acme, globex, initech):
    assert set(DEMOTION.TENANT_ADMIN_PERMISSIONS) == set(TENANT_ADMIN_PERMISSIONS)
    for tenant in (acme, globex, initech):
        with tenant_context(tenant):
            group = Group.objects.get(name=TENANT_ADMIN_GROUP)
            granted = {
                f"{app}.{codename}"
                for app, codename in group.permissions.values_list(
                    "content_type__app_label", "codename"
                )
            }
            assert granted == set(TENANT_ADMIN_PERMISSIONS)


def test_data_migration_demotes_superuser_tenant_admins(acme):
    with tenant_context(acme):
        users = get_user_model().objects
        # What create_tenant_admin made before: staff and superuser, no group.
        old_admin = users.create_user("old@acme.example", password=PASSWORD, is_staff=True)
        old_admin.is_superuser = True
        old_admin.save()
        not_staff = users.create_user("odd@acme.example", password=PASSWORD, is_superuser=True)
        Group.objects.filter(name=TENANT_ADMIN_GROUP).delete()
        DEMOTION.demote_tenant_admins(django_apps, SimpleNamespace(connection=connection))
        old_admin.refresh_from_db()
        not_staff.refresh_from_db()
        assert not old_admin.is_superuser and old_admin.is_staff
        assert old_admin.get_all_permissions() == set(TENANT_ADMIN_PERMISSIONS)
        assert is_tenant_admin(old_admin)
        assert not not_staff.is_superuser and not not_staff.groups.exists()
    connection.set_schema_to_public()
    client = Client(HTTP_HOST="acme.localhost")
    request(client, "post", "/admin/login/", {"username": "old@acme.example", "password": PASSWORD})
    assert request(client, "get", "/admin/tenancy/tenant/").status_code == 404
    assert request(client, "get", "/settings/api/").status_code == 200
