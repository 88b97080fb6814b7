"""Settings -> API Settings: the IP allowlist on the generate form and the token's edit page."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from tenancy.models import Tenant
from tests.tokens.settings_helpers import (
    ADMIN_EMAIL,
    admin_browser,
    browser,
    log_in,
    make_user,
    page,
    token_row,
)
from tokens.models import ApiToken, TokenEvent


@pytest.fixture
def admin(acme: Tenant) -> Client:
    return admin_browser(acme)


def generate(admin: Client, allowed_ips: str):
    return page(
        admin,
        "post",
        "/settings/api/tokens/new/",
        {"name": "Limited", "abilities": ["read"], "expires_at": "", "allowed_ips": allowed_ips},
    )


def test_generate_with_an_allowlist_stores_it_normalised(admin, acme):
    response = generate(admin, "203.0.113.9\r\n198.51.100.0/24, 2001:DB8::/32\n\n")
    assert response.status_code == 302
    token_id = int(response["Location"].split("/tokens/")[1].split("/")[0])
    assert token_row(acme, token_id).allowed_ips == [
        "203.0.113.9/32",
        "198.51.100.0/24",
        "2001:db8::/32",
    ]


def test_generate_names_the_bad_line_and_keeps_nothing(admin, acme):
    response = generate(admin, "203.0.113.9\nnot-an-address\n10.0.0.5/24")
    assert response.status_code == 422
    body = response.content.decode()
    assert "Entry 2: Enter an IPv4 or IPv6 address or CIDR" in body
    assert "Entry 3: 10.0.0.5/24 has host bits set" in body
    assert generate(admin, "\n".join(["10.0.0.1"] * 51)).status_code == 422
    with tenant_context(acme):
        assert not ApiToken.objects.filter(name="Limited").exists()


def test_edit_page_changes_name_and_list_with_an_event(admin, acme):
    response = generate(admin, "")
    token_id = int(response["Location"].split("/tokens/")[1].split("/")[0])
    path = f"/settings/api/tokens/{token_id}/edit/"
    form = page(admin, "get", path)
    assert form.status_code == 200 and 'name="allowed_ips"' in form.content.decode()
    saved = page(admin, "post", path, {"name": "Limited (DC2)", "allowed_ips": "192.0.2.1"})
    assert saved.status_code == 302
    assert saved["Location"] == f"/settings/api/tokens/{token_id}/activity/"
    token = token_row(acme, token_id)
    assert (token.name, token.allowed_ips) == ("Limited (DC2)", ["192.0.2.1/32"])
    with tenant_context(acme):
        event = TokenEvent.objects.get(token_id=token_id, kind="updated")
        assert event.actor_label == f"user:{ADMIN_EMAIL}"
        assert event.changes["allowed_ips"] == {"before": [], "after": ["192.0.2.1/32"]}
    activity = page(admin, "get", f"/settings/api/tokens/{token_id}/activity/").content.decode()
    assert "192.0.2.1/32" in activity and "Updated" in activity
    bad = page(admin, "post", path, {"name": "x", "allowed_ips": "10.0.0.5/24"})
    assert bad.status_code == 422
    assert token_row(acme, token_id).name == "Limited (DC2)"


def test_edit_page_of_a_revoked_or_unknown_token_is_404(admin, acme):
    response = generate(admin, "")
    token_id = int(response["Location"].split("/tokens/")[1].split("/")[0])
    page(admin, "post", f"/settings/api/tokens/{token_id}/revoke/")
    assert page(admin, "get", f"/settings/api/tokens/{token_id}/edit/").status_code == 404
    assert page(admin, "get", "/settings/api/tokens/99999/edit/").status_code == 404


def test_edit_page_needs_a_tenant_admin(acme):
    make_user(acme, "clerk@acme.example", admin=False)
    client = browser()
    log_in(client, "clerk@acme.example")
    assert page(client, "get", "/settings/api/tokens/1/edit/").status_code == 403
    anonymous = browser()
    assert page(anonymous, "get", "/settings/api/tokens/1/edit/").status_code == 302
