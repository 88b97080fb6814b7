"""Settings -> API Settings: generate (shown once), list, revoke, regenerate, activity."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenancy.models import Tenant
from tests.helpers import UNAUTHENTICATED, issue_token
from tests.tokens.settings_helpers import (
    ADMIN_EMAIL,
    TOKEN_PATTERN,
    admin_browser,
    create_token,
    page,
    shown_token,
    token_row,
)
from tokens.models import ApiRequestLog, ApiToken, TokenEvent


@pytest.fixture
def admin(acme: Tenant) -> Client:
    return admin_browser(acme)


# --- Generate, show once -------------------------------------------------------------------------


def test_generate_form_lists_abilities_with_the_seed_descriptions(admin):
    body = page(admin, "get", "/settings/api/tokens/new/").content.decode()
    for value, label in [
        ("read", "Read-only access to all resources"),
        ("write", "Create and update resources"),
        ("delete", "Delete resources"),
        ("approve", "Approve/reject items"),
        ("admin", "Full administrative access"),
    ]:
        assert f'value="{value}"' in body
        assert label in body
    assert '<label for="id_name">' in body
    assert '<label for="id_abilities_0">' in body


def test_generated_token_is_shown_once_and_works(admin, acme, api):
    token_id, created = create_token(admin, "ERP Integration", ("read", "write"))
    first = page(admin, "get", created["Location"])
    assert first.status_code == 200
    assert "no-store" in first["Cache-Control"]
    plaintext = shown_token(first)
    assert plaintext.startswith(f"{token_id}|")
    assert "will not be shown again" in first.content.decode()
    assert "readonly" in first.content.decode()

    again = page(admin, "get", created["Location"])
    assert again.status_code == 200
    assert "no-store" in again["Cache-Control"]
    assert plaintext.split("|")[1] not in again.content.decode()
    assert TOKEN_PATTERN.search(again.content.decode()) is None
    assert "cannot be shown again" in again.content.decode()

    me = api(acme, plaintext).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["data"]["token_name"] == "ERP Integration"
    assert me.json()["data"]["abilities"] == ["read", "write"]
    with tenant_context(acme):
        event = TokenEvent.objects.get(token_id=token_id)
    assert event.kind == "created"
    assert event.actor_label == f"user:{ADMIN_EMAIL}"
    assert event.ip_address == "127.0.0.1"


def test_generate_with_an_expiry(admin, acme):
    when = (timezone.localtime() + timedelta(days=30)).replace(second=0, microsecond=0)
    response = page(
        admin,
        "post",
        "/settings/api/tokens/new/",
        {
            "name": "Temporary Access",
            "abilities": ["read"],
            "expires_at": when.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    with tenant_context(acme):
        assert ApiToken.objects.get(name="Temporary Access").expires_at == when


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"name": "", "abilities": ["read"]}, "This field is required."),
        ({"name": "No abilities"}, "Choose at least one ability."),
        ({"name": "Bad ability", "abilities": ["root"]}, "Select a valid choice."),
        (
            {"name": "Past", "abilities": ["read"], "expires_at": "2020-01-01T00:00"},
            "The expiry must be in the future.",
        ),
        (
            {"name": "Garbled", "abilities": ["read"], "expires_at": "tomorrow"},
            "Enter a valid date/time.",
        ),
        ({"name": "x" * 256, "abilities": ["read"]}, "at most 255 characters"),
    ],
)
def test_generate_rejects_bad_input_without_creating(admin, acme, data, field_error):
    response = page(admin, "post", "/settings/api/tokens/new/", data)
    assert response.status_code == 422
    assert field_error in response.content.decode()
    with tenant_context(acme):
        assert ApiToken.objects.count() == 0


def test_issued_page_shows_only_its_own_token_once(admin):
    first_id, first = create_token(admin, "First")
    second_id, second = create_token(admin, "Second")
    assert shown_token(page(admin, "get", second["Location"])).startswith(f"{second_id}|")
    assert shown_token(page(admin, "get", first["Location"])).startswith(f"{first_id}|")
    for location in (first["Location"], second["Location"]):
        assert TOKEN_PATTERN.search(page(admin, "get", location).content.decode()) is None


# --- List ----------------------------------------------------------------------------------------


def test_token_list_shows_status_last_use_expiry_and_rotation_due(admin, acme):
    now = timezone.now()
    issue_token(acme, ["read"], name="Fresh")
    issue_token(acme, ["read", "write"], name="Old")
    issue_token(acme, ["read"], name="Old but rotated")
    issue_token(acme, ["read"], name="Expired one")
    revoked_plain = issue_token(acme, ["admin"], name="Gone")
    with tenant_context(acme):
        ApiToken.objects.filter(name="Fresh").update(last_used_at=now - timedelta(minutes=5))
        ApiToken.objects.filter(name="Gone").update(last_used_at=now - timedelta(seconds=10))
        ApiToken.objects.filter(name="Old").update(created_at=now - timedelta(days=91))
        ApiToken.objects.filter(name="Old but rotated").update(
            created_at=now - timedelta(days=200), regenerated_at=now - timedelta(days=10)
        )
        ApiToken.objects.filter(name="Expired one").update(
            created_at=now - timedelta(days=120), expires_at=now - timedelta(days=1)
        )
        ApiToken.objects.filter(name="Gone").update(revoked_at=now)
    body = page(admin, "get", "/settings/api/").content.decode()
    rows = {
        name: re.search(
            rf"<tr id=\"token-\d+\"(?:(?!</tr>).)*?<strong>{re.escape(name)}</strong>"
            r".*?</tr>",
            body,
            re.S,
        ).group(0)
        for name in ("Fresh", "Old", "Old but rotated", "Expired one", "Gone")
    }
    assert "5\xa0minutes ago" in rows["Fresh"]
    assert "Never" in rows["Old"]
    assert "Rotation due" in rows["Old"]
    assert "Active" in rows["Old"]
    assert "Rotation due" not in rows["Fresh"]
    assert "Rotation due" not in rows["Old but rotated"]
    assert "Expired" in rows["Expired one"] and "Rotation due" not in rows["Expired one"]
    assert "Revoked" in rows["Gone"] and "/revoke/" not in rows["Gone"]
    assert "Just now" in rows["Gone"]
    assert '<code class="ability">write</code>' in rows["Old"]
    assert revoked_plain.split("|")[1] not in body


# --- Revoke, regenerate --------------------------------------------------------------------------


def test_revoke_asks_for_confirmation_then_the_next_api_call_is_401(admin, acme, api):
    plaintext = issue_token(acme, ["read"], name="Decommissioned")
    token_id = int(plaintext.split("|")[0])
    assert api(acme, plaintext).get("/api/v1/me").status_code == 200  # cached by the lookup

    confirm = page(admin, "get", f"/settings/api/tokens/{token_id}/revoke/")
    assert confirm.status_code == 200
    assert "Revoke “Decommissioned”?" in confirm.content.decode()
    assert token_row(acme, token_id).revoked_at is None

    done = page(admin, "post", f"/settings/api/tokens/{token_id}/revoke/")
    assert done.status_code == 302 and done["Location"] == "/settings/api/"
    listing = page(admin, "get", "/settings/api/").content.decode()
    assert "The token “Decommissioned” was revoked." in listing

    response = api(acme, plaintext).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED
    with tenant_context(acme):
        assert list(
            TokenEvent.objects.filter(token_id=token_id).values_list("kind", flat=True)
        ) == ["revoked", "created"]
    # A revoked token cannot be revoked or regenerated again.
    assert page(admin, "get", f"/settings/api/tokens/{token_id}/revoke/").status_code == 404
    assert (
        page(
            admin,
            "post",
            f"/settings/api/tokens/{token_id}/regenerate/",
            {"grace_period_minutes": "0"},
        ).status_code
        == 404
    )


def test_regenerate_with_grace_keeps_the_old_secret_working(admin, acme, api):
    old = issue_token(acme, ["read"], name="ERP Sync")
    token_id = int(old.split("|")[0])
    confirm = page(admin, "get", f"/settings/api/tokens/{token_id}/regenerate/")
    assert confirm.status_code == 200
    assert '<label for="id_grace_period_minutes">' in confirm.content.decode()

    response = page(
        admin,
        "post",
        f"/settings/api/tokens/{token_id}/regenerate/",
        {"grace_period_minutes": "30"},
    )
    assert response.status_code == 302
    shown = page(admin, "get", response["Location"])
    assert "no-store" in shown["Cache-Control"]
    assert "Token regenerated" in shown.content.decode()
    new = shown_token(shown)
    assert new.startswith(f"{token_id}|") and new != old
    assert TOKEN_PATTERN.search(page(admin, "get", response["Location"]).content.decode()) is None

    assert api(acme, new).get("/api/v1/me").status_code == 200
    assert api(acme, old).get("/api/v1/me").status_code == 200
    row = token_row(acme, token_id)
    remaining = row.previous_secret_valid_until - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)


def test_regenerate_without_grace_stops_the_old_secret_at_once(admin, acme, api):
    old = issue_token(acme, ["read"], name="ERP Sync")
    token_id = int(old.split("|")[0])
    response = page(
        admin, "post", f"/settings/api/tokens/{token_id}/regenerate/", {"grace_period_minutes": "0"}
    )
    new = shown_token(page(admin, "get", response["Location"]))
    assert api(acme, old).get("/api/v1/me").status_code == 401
    assert api(acme, new).get("/api/v1/me").status_code == 200


@pytest.mark.parametrize("grace", ["-1", "1441", "soon", ""])
def test_regenerate_rejects_a_bad_grace_period(admin, acme, grace):
    plaintext = issue_token(acme, ["read"], name="ERP Sync")
    token_id = int(plaintext.split("|")[0])
    response = page(
        admin,
        "post",
        f"/settings/api/tokens/{token_id}/regenerate/",
        {"grace_period_minutes": grace},
    )
    assert response.status_code == 422
    assert token_row(acme, token_id).regenerated_at is None


def test_unknown_token_pages_are_html_404(admin):
    for path in (
        "/settings/api/tokens/999999/activity/",
        "/settings/api/tokens/999999/revoke/",
        "/settings/api/tokens/999999/regenerate/",
        "/settings/api/tokens/999999/issued/",
    ):
        response = page(admin, "get", path)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")


# --- Activity ------------------------------------------------------------------------------------


def test_activity_page_lists_the_tokens_requests_and_lifecycle(admin, acme):
    plaintext = issue_token(acme, ["read"], name="Reporting Integration")
    other = issue_token(acme, ["read"], name="Other")
    token_id, other_id = int(plaintext.split("|")[0]), int(other.split("|")[0])
    now = timezone.now()
    with tenant_context(acme):
        for token, path, status in [
            (token_id, "/api/v1/vendors", 200),
            (token_id, "/api/v1/purchase-orders", 403),
            (other_id, "/api/v1/departments", 200),
        ]:
            ApiRequestLog.objects.create(
                occurred_at=now,
                token_id=token,
                token_name="",
                method="GET",
                path=path,
                query_string="page=2" if status == 200 else "",
                status=status,
                duration_ms=12.34,
                ip_address="203.0.113.9",
                user_agent="ERP/1.0",
                request_id="req-" + path[-3:],
            )
    page(
        admin, "post", f"/settings/api/tokens/{token_id}/regenerate/", {"grace_period_minutes": "0"}
    )
    response = page(admin, "get", f"/settings/api/tokens/{token_id}/activity/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "GET /api/v1/vendors?page=2" in body
    assert "GET /api/v1/purchase-orders" in body
    assert "/api/v1/departments" not in body
    assert "203.0.113.9" in body and "12.3 ms" in body
    assert "Regenerated" in body and "Created" in body
    assert f"user:{ADMIN_EMAIL}" in body and "tests" in body
