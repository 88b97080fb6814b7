"""Sessions, CSRF, the logged-in user and messages: on every browser page, never under /api/
(``waqti/browser_middleware.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from tests.helpers import issue_token
from tests.tokens.settings_helpers import (
    ADMIN_EMAIL,
    admin_browser,
    browser,
    create_token,
    log_in,
    make_user,
    page,
)
from waqti import browser_middleware

WRAPPED = {
    browser_middleware.SessionMiddleware: "session",
    browser_middleware.MessageMiddleware: "_messages",
    browser_middleware.AuthenticationMiddleware: "user",
}


def run(middleware: type, path: str) -> tuple[HttpRequest, HttpResponse]:
    """``path`` through one middleware in front of a view that reads nothing."""
    request = RequestFactory().get(path, HTTP_HOST="acme.localhost")
    request.COOKIES[settings.SESSION_COOKIE_NAME] = "not-a-session-key"
    if middleware is not browser_middleware.SessionMiddleware:  # as the middleware before it
        request.session = SessionStore()
    view_response = HttpResponse("ok")
    response = middleware(lambda _request: view_response)(request)
    return request, response


@pytest.mark.parametrize("middleware", list(WRAPPED))
@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/purchase-orders/7", "/api/"])
def test_api_requests_get_no_browser_state(middleware: type, path: str) -> None:
    request, _response = run(middleware, path)
    assert not hasattr(request, WRAPPED[middleware])


@pytest.mark.parametrize("middleware", list(WRAPPED))
@pytest.mark.parametrize("path", ["/settings/api/", "/admin/", "/apix", "/settings/api/tokens/"])
def test_other_requests_get_it_as_django_gives_it(middleware: type, path: str) -> None:
    request, _response = run(middleware, path)
    assert hasattr(request, WRAPPED[middleware])


def test_the_stock_classes_are_replaced_in_place() -> None:
    names = [f"{m.__module__}.{m.__qualname__}" for m in WRAPPED]
    assert all(name in settings.MIDDLEWARE for name in names)
    for stock in (
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ):
        assert stock not in settings.MIDDLEWARE
    # Django's own order: sessions, CSRF (the stock class: `check --deploy` looks for it by
    # name), the user, messages.
    session, messages, user = (settings.MIDDLEWARE.index(name) for name in names)
    csrf = settings.MIDDLEWARE.index("django.middleware.csrf.CsrfViewMiddleware")
    assert session < csrf < user < messages


def test_a_logged_in_browser_calling_the_api_is_the_token_alone(acme: Any) -> None:
    """The Settings session neither authenticates an API call nor is touched by one."""
    client = admin_browser(acme)
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    refused = page(client, "get", "/api/v1/me")
    assert refused.status_code == 401
    assert refused.json() == {
        "message": "Unauthenticated.",
        "errors": {"token": ["Invalid or expired token"]},
    }
    token = issue_token(acme, ["read"])
    answered = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    connection.set_schema_to_public()
    assert answered.status_code == 200
    assert answered.json()["data"]["token_name"] == "Test token"
    assert not answered.cookies  # no session or CSRF cookie written by an API answer
    assert "Cookie" not in answered.get("Vary", "")
    assert client.cookies[settings.SESSION_COOKIE_NAME].value == session_cookie
    assert page(client, "get", "/settings/api/").status_code == 200  # still logged in


def test_settings_keep_csrf_sessions_and_messages(acme: Any) -> None:
    make_user(acme, ADMIN_EMAIL)
    guarded = browser(csrf=True)
    login_page = page(guarded, "get", "/settings/login/")
    assert login_page.status_code == 200 and settings.CSRF_COOKIE_NAME in guarded.cookies
    assert log_in(guarded).status_code == 403  # no CSRF token in the form: refused
    client = browser()
    assert log_in(client).status_code == 302
    assert settings.SESSION_COOKIE_NAME in client.cookies
    token_id, _response = create_token(client, name="Flash")
    revoked = page(client, "post", f"/settings/api/tokens/{token_id}/revoke/")
    assert revoked.status_code == 302
    shown = page(client, "get", revoked["Location"])
    assert "The token “Flash” was revoked." in shown.content.decode()
    assert "was revoked" not in page(client, "get", revoked["Location"]).content.decode()


def test_a_browser_without_cookies_is_sent_to_log_in(acme: Any) -> None:
    response = page(Client(HTTP_HOST="acme.localhost"), "get", "/settings/api/")
    assert response.status_code == 302 and "/settings/login/" in response["Location"]
