"""Settings -> API Settings pages through the Django test client, as an admin's browser would."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenancy.models import Tenant
from tests.helpers import UNAUTHENTICATED, issue_token
from tokens.models import ApiRequestLog, ApiToken, TokenEvent
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


def page(client: Client, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
    response = getattr(client, method)(path, data or {})
    connection.set_schema_to_public()
    return response


@pytest.fixture
def admin(acme: Tenant) -> Client:
    make_user(acme, ADMIN_EMAIL)
    client = browser()
    assert log_in(client).status_code == 302
    return client


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
