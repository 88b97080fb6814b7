"""Settings -> API Settings: access, login, CSRF, the tenant admin site, languages, sessions."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenancy.models import Tenant
from tests.helpers import issue_token
from tests.tokens.settings_helpers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    HOST,
    TOKEN_PATTERN,
    admin_browser,
    browser,
    create_token,
    log_in,
    make_user,
    page,
    shown_token,
    token_row,
)
from tokens.models import ApiToken, TokenEvent


@pytest.fixture
def admin(acme: Tenant) -> Client:
    return admin_browser(acme)


# --- Access --------------------------------------------------------------------------------------


def test_settings_page_redirects_anonymous_users_to_login(acme):
    response = page(browser(), "get", "/settings/api/")
    assert response.status_code == 302
    assert response["Location"] == "/settings/login/?next=/settings/api/"


def test_tenant_root_leads_to_api_settings(acme):
    response = page(browser(), "get", "/")
    assert response.status_code == 302
    assert response["Location"] == "/settings/api/"


def test_settings_page_is_403_html_for_logged_in_non_admin(acme):
    make_user(acme, "clerk@acme.example", admin=False)
    client = browser()
    assert log_in(client, "clerk@acme.example").status_code == 302
    for path in ("/settings/api/", "/settings/api/tokens/new/"):
        response = page(client, "get", path)
        assert response.status_code == 403
        assert response["Content-Type"].startswith("text/html")
        assert "Access denied" in response.content.decode()
        assert "clerk@acme.example" in response.content.decode()


def test_non_admin_cannot_create_a_token_by_posting(acme):
    make_user(acme, "clerk@acme.example", admin=False)
    client = browser()
    log_in(client, "clerk@acme.example")
    response = page(
        client, "post", "/settings/api/tokens/new/", {"name": "x", "abilities": ["read"]}
    )
    assert response.status_code == 403
    with tenant_context(acme):
        assert not ApiToken.objects.filter(name="x").exists()


def test_admin_sees_the_token_list_with_no_store(admin):
    response = page(admin, "get", "/settings/api/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Generate New Token" in body
    assert "no-store" in response["Cache-Control"]


def test_login_of_one_tenant_does_not_open_another_tenant(acme, globex):
    make_user(acme, ADMIN_EMAIL)
    client = browser()
    log_in(client)
    response = client.get("/settings/api/", HTTP_HOST="globex.localhost")
    connection.set_schema_to_public()
    assert response.status_code == 302
    assert response["Location"].startswith("/settings/login/")


def test_login_with_a_wrong_password_shows_an_error(acme):
    make_user(acme, ADMIN_EMAIL)
    response = log_in(browser(), password="wrong-password")
    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()


def test_login_redirects_only_to_local_next_urls(acme):
    make_user(acme, ADMIN_EMAIL)
    client = browser()
    response = client.post(
        "/settings/login/?next=https://evil.example/",
        {"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
    )
    assert response["Location"] == "/settings/api/"
    client = browser()
    response = client.post(
        "/settings/login/",
        {
            "username": ADMIN_EMAIL.upper(),
            "password": ADMIN_PASSWORD,
            "next": "/settings/api/tokens/new/",
        },
    )
    assert response["Location"] == "/settings/api/tokens/new/"


def test_logout_ends_the_session(admin):
    response = page(admin, "post", "/settings/logout/")
    assert response.status_code == 302
    assert page(admin, "get", "/settings/api/").status_code == 302


def test_login_is_limited_per_account_and_per_address(acme, settings):
    per_account, _period = settings.WAQTI_PASSWORD_ATTEMPTS_PER_ACCOUNT
    make_user(acme, ADMIN_EMAIL)
    make_user(acme, "other@acme.example")
    client = browser()
    for _ in range(per_account):
        assert log_in(client, password="wrong-password").status_code == 200
    refused = log_in(client)  # even the right password
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "Too many login attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from the same address still logs in (the address has its own, higher
    # limit), but this account is refused from any address.
    assert log_in(browser(), "other@acme.example").status_code == 302
    other_ip = Client(HTTP_HOST=HOST, REMOTE_ADDR="10.9.8.7")
    assert log_in(other_ip).status_code == 429
    # A later window starts from zero (the clock is moved, not slept).
    later = timezone.now().timestamp() + 16 * 60
    with mock.patch("django_ratelimit.core.time.time", return_value=later):
        assert log_in(client).status_code == 302


# --- CSRF ----------------------------------------------------------------------------------------


def test_login_and_create_require_a_csrf_token(acme):
    make_user(acme, ADMIN_EMAIL)
    client = browser(csrf=True)
    assert log_in(client).status_code == 403  # no CSRF token
    page(client, "get", "/settings/login/")  # sets the csrftoken cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        "/settings/login/",
        {"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrfmiddlewaretoken": csrf},
    )
    connection.set_schema_to_public()
    assert response.status_code == 302

    refused = page(
        client, "post", "/settings/api/tokens/new/", {"name": "No CSRF", "abilities": ["read"]}
    )
    assert refused.status_code == 403
    with tenant_context(acme):
        assert not ApiToken.objects.filter(name="No CSRF").exists()
    csrf = client.cookies["csrftoken"].value  # rotated at login
    accepted = page(
        client,
        "post",
        "/settings/api/tokens/new/",
        {"name": "With CSRF", "abilities": ["read"], "csrfmiddlewaretoken": csrf},
    )
    assert accepted.status_code == 302


# --- Django admin --------------------------------------------------------------------------------


def test_admin_site_creates_a_token_and_shows_the_plaintext_once(admin, acme, api):
    form = page(admin, "get", "/admin/tokens/apitoken/add/")
    assert form.status_code == 200
    assert "secret_hash" not in form.content.decode()
    response = page(
        admin,
        "post",
        "/admin/tokens/apitoken/add/",
        {
            "name": "Admin-made",
            "abilities": ["read", "approve"],
            "expires_at_0": "",
            "expires_at_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    shown = page(admin, "get", response["Location"])
    plaintext = shown_token(shown)
    assert "will not be shown again" in shown.content.decode()
    assert TOKEN_PATTERN.search(page(admin, "get", response["Location"]).content.decode()) is None

    me = api(acme, plaintext).get("/api/v1/me")
    assert me.json()["data"]["token_name"] == "Admin-made"
    assert me.json()["data"]["abilities"] == ["read", "approve"]
    with tenant_context(acme):
        token = ApiToken.objects.get(name="Admin-made")
        assert TokenEvent.objects.get(token=token).actor_label == f"user:{ADMIN_EMAIL}"


def test_admin_site_lists_searches_and_revokes_through_the_service(admin, acme, api):
    keep = issue_token(acme, ["read"], name="Keep me")
    drop = issue_token(acme, ["read"], name="Drop me")
    listing = page(admin, "get", "/admin/tokens/apitoken/", {"q": "Drop"})
    assert listing.status_code == 200
    assert "Drop me" in listing.content.decode() and "Keep me" not in listing.content.decode()
    drop_id = int(drop.split("|")[0])
    response = page(
        admin,
        "post",
        "/admin/tokens/apitoken/",
        {"action": "revoke_tokens", "_selected_action": [str(drop_id)], "index": "0"},
    )
    assert response.status_code == 302
    assert api(acme, drop).get("/api/v1/me").status_code == 401
    assert api(acme, keep).get("/api/v1/me").status_code == 200
    with tenant_context(acme):
        event = TokenEvent.objects.get(token_id=drop_id, kind="revoked")
    assert event.actor_label == f"user:{ADMIN_EMAIL}"


def test_no_page_ever_shows_a_secret_hash(admin, acme):
    plaintext = issue_token(acme, ["read"], name="Hashed")
    token_id = int(plaintext.split("|")[0])
    page(
        admin,
        "post",
        f"/settings/api/tokens/{token_id}/regenerate/",
        {"grace_period_minutes": "60"},
    )
    row = token_row(acme, token_id)
    assert row.secret_hash and row.previous_secret_hash
    paths = [
        "/settings/api/",
        f"/settings/api/tokens/{token_id}/activity/",
        f"/settings/api/tokens/{token_id}/revoke/",
        f"/settings/api/tokens/{token_id}/regenerate/",
        f"/settings/api/tokens/{token_id}/edit/",
        f"/settings/api/tokens/{token_id}/issued/",
        "/admin/tokens/apitoken/",
        f"/admin/tokens/apitoken/{token_id}/change/",
        "/admin/tokens/tokenevent/",
        f"/admin/tokens/apitoken/{token_id}/history/",
    ]
    for path in paths:
        response = page(admin, "get", path)
        assert response.status_code == 200, path
        body = response.content.decode()
        for secret in (row.secret_hash, row.previous_secret_hash):
            assert secret not in body, path
        assert "secret_hash" not in body, path


# --- Languages -----------------------------------------------------------------------------------


def test_pages_are_right_to_left_in_arabic(acme):
    make_user(acme, ADMIN_EMAIL)
    client = browser(language="ar")
    login = page(client, "get", "/settings/login/")
    assert '<html lang="ar" dir="rtl">' in login.content.decode()
    log_in(client)
    body = page(client, "get", "/settings/api/").content.decode()
    assert '<html lang="ar" dir="rtl">' in body
    assert "إنشاء رمز جديد" in body  # "Generate New Token"
    english = page(browser(), "get", "/settings/login/").content.decode()
    assert '<html lang="en" dir="ltr">' in english


def test_language_switch_sets_the_language(acme):
    client = browser()
    response = page(
        client, "post", "/settings/i18n/setlang/", {"language": "ar", "next": "/settings/login/"}
    )
    assert response.status_code == 302 and response["Location"] == "/settings/login/"
    assert client.cookies["django_language"].value == "ar"
    assert 'dir="rtl"' in page(client, "get", "/settings/login/").content.decode()


def _session_rows_containing(tenant: Any, secret: str) -> int:
    from django.contrib.sessions.models import Session

    with tenant_context(tenant):
        return sum(secret in str(row.get_decoded()) for row in Session.objects.all())


def test_plaintext_is_never_written_to_the_session_table(admin, acme):
    """Page and Django admin alike hand the plaintext over in the browser, never server-side."""
    token_id, created = create_token(admin, "Never stored", ("read",))
    cookie = admin.cookies[f"waqti_issued_token_{token_id}"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["path"] == f"/settings/api/tokens/{token_id}/issued/"
    plaintext = shown_token(page(admin, "get", created["Location"]))
    assert _session_rows_containing(acme, plaintext.split("|")[1]) == 0
    assert admin.cookies[f"waqti_issued_token_{token_id}"].value == ""  # deleted by the page

    response = page(
        admin,
        "post",
        "/admin/tokens/apitoken/add/",
        {"name": "Admin-made", "abilities": ["read"], "expires_at_0": "", "expires_at_1": ""},
    )
    shown = shown_token(page(admin, "get", response["Location"]))
    assert _session_rows_containing(acme, shown.split("|")[1]) == 0
