"""Settings -> API Settings -> Token policy: the form, its audit, and what the list shows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenancy.models import Tenant
from tests.helpers import issue_token
from tests.tokens.settings_helpers import (
    ADMIN_EMAIL,
    admin_browser,
    browser,
    log_in,
    make_user,
    page,
)
from tokens.models import ApiToken, TokenPolicyEvent

POLICY = "/settings/api/policy/"
ALL = ["read", "write", "delete", "approve", "admin"]


@pytest.fixture
def admin(acme: Tenant) -> Client:
    return admin_browser(acme)


def form(**fields):
    data = {
        "max_lifetime_days": "",
        "expire_unused_after_days": "",
        "rotation_days": "90",
        "allowed_abilities": ALL,
    }
    data.update(fields)
    return data


def row_of(body: str, name: str) -> str:
    pattern = rf"<tr id=\"token-\d+\"(?:(?!</tr>).)*?<strong>{re.escape(name)}</strong>.*?</tr>"
    return re.search(pattern, body, re.S).group(0)


def test_policy_page_shows_the_defaults_and_needs_a_tenant_admin(db, admin, acme):
    body = page(admin, "get", POLICY).content.decode()
    assert 'name="rotation_days" value="90"' in body
    assert "the defaults apply" in body
    make_user(acme, "clerk@acme.example", admin=False)
    clerk = browser()
    log_in(clerk, "clerk@acme.example")
    assert page(clerk, "get", POLICY).status_code == 403
    assert page(browser(), "get", POLICY).status_code == 302  # to the login


def test_saving_the_policy_records_the_change_and_shows_it(db, admin, acme):
    response = page(
        admin,
        "post",
        POLICY,
        form(max_lifetime_days="30", rotation_days="45", allowed_abilities=["read", "admin"]),
    )
    assert response.status_code == 302 and response["Location"] == POLICY
    body = page(admin, "get", POLICY).content.decode()
    assert "The token policy was saved." in body
    assert 'name="max_lifetime_days" value="30"' in body
    changes = re.search(r'<table id="policy-changes">.*?</table>', body, re.S).group(0)
    assert f"user:{ADMIN_EMAIL}" in changes and "read, admin" in changes and "45" in changes
    with tenant_context(acme):
        event = TokenPolicyEvent.objects.get()
    assert event.before["rotation_days"] == 90 and event.after["rotation_days"] == 45
    assert event.after["allowed_abilities"] == ["read", "admin"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"rotation_days": "0"}, "rotation_days"),
        ({"rotation_days": ""}, "rotation_days"),
        ({"max_lifetime_days": "99999"}, "max_lifetime_days"),
        ({"expire_unused_after_days": "-1"}, "expire_unused_after_days"),
        ({"expire_unused_after_days": "1e3"}, "expire_unused_after_days"),
        ({"allowed_abilities": []}, "allowed_abilities"),
        ({"allowed_abilities": ["root"]}, "allowed_abilities"),
    ],
)
def test_invalid_policy_is_422_and_changes_nothing(db, admin, acme, fields, field):
    response = page(admin, "post", POLICY, form(**fields))
    assert response.status_code == 422
    assert field in response.context["form"].errors
    with tenant_context(acme):
        assert not TokenPolicyEvent.objects.exists()


def test_list_shows_unused_expiry_withheld_abilities_and_the_policy_rotation_age(db, admin, acme):
    issue_token(acme, ["read", "delete"], name="Idle")
    issue_token(acme, ["read"], name="Busy")
    now = timezone.now()
    with tenant_context(acme):
        ApiToken.objects.filter(name="Idle").update(created_at=now - timedelta(days=40))
        ApiToken.objects.filter(name="Busy").update(
            created_at=now - timedelta(days=40), last_used_at=now - timedelta(days=1)
        )
    body = page(admin, "get", "/settings/api/").content.decode()
    assert "Rotation due" not in body  # 40 days < 90
    page(
        admin,
        "post",
        POLICY,
        form(
            expire_unused_after_days="30",
            rotation_days="30",
            allowed_abilities=["read", "write", "approve", "admin"],
        ),
    )
    body = page(admin, "get", "/settings/api/").content.decode()
    idle, busy = row_of(body, "Idle"), row_of(body, "Busy")
    assert "Expired (unused)" in idle and "Rotation due" not in idle
    assert "Active" in busy and "Rotation due" in busy
    assert 'class="ability withheld"' in idle and ">delete</code></del>" in idle


def test_generate_and_regenerate_show_the_policy_refusal_on_the_form(db, admin, acme):
    page(admin, "post", POLICY, form(max_lifetime_days="7", allowed_abilities=["read", "admin"]))
    response = page(
        admin,
        "post",
        "/settings/api/tokens/new/",
        {"name": "ERP", "abilities": ["read", "write"], "expires_at": ""},
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert errors["abilities"] == ["The token policy does not allow the 'write' ability."]
    assert errors["expires_at"] == ["The token policy requires an expiry at most 7 days from now."]

    with tenant_context(acme):  # made before the policy: it never expires
        token = ApiToken.objects.create(name="Forever", abilities=["read"], secret_hash="x" * 64)
    path = f"/settings/api/tokens/{token.pk}/regenerate/"
    response = page(admin, "post", path, {"grace_period_minutes": "0", "expires_at": ""})
    assert response.status_code == 422
    assert "expires_at" in response.context["form"].errors
    soon = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = page(admin, "post", path, {"grace_period_minutes": "0", "expires_at": soon})
    assert response.status_code == 302
