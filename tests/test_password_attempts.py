"""Every password form (Settings login, admin login on tenant and public hosts, admin password
change) is limited the same way: counted before the password is checked, per account and per
client address, per tenant; refused with 429 and the form's own message; logged."""

from __future__ import annotations

import logging
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from tenancy.models import Tenant
from tokens.settings_ui.accounts import tenant_admin_create

EMAIL = "owner@acme.example"
PASSWORD = "correct-horse-battery"
PER_ACCOUNT = 3
PER_ADDRESS = 5
PERIOD = 15 * 60

FORMS = [
    pytest.param("acme.localhost", "/settings/login/", id="settings-login"),
    pytest.param("acme.localhost", "/admin/login/", id="tenant-admin-login"),
    pytest.param("localhost", "/admin/login/", id="public-admin-login"),
]


@pytest.fixture(autouse=True)
def small_limits(settings: Any) -> None:
    settings.WAQTI_PASSWORD_ATTEMPTS_PER_ACCOUNT = (PER_ACCOUNT, PERIOD)
    settings.WAQTI_PASSWORD_ATTEMPTS_PER_ADDRESS = (PER_ADDRESS, PERIOD)


def make_account(host: str, email: str = EMAIL) -> None:
    """A tenant admin of the host's tenant, or a platform operator on the public host."""
    if host == "localhost":
        connection.set_schema_to_public()
        get_user_model().objects.create_superuser(email, email, PASSWORD)
    else:
        with tenant_context(Tenant.objects.get(domains__domain=host)):
            tenant_admin_create(email=email, password=PASSWORD)
    connection.set_schema_to_public()


def attempt(
    host: str,
    path: str,
    password: str,
    *,
    email: str = EMAIL,
    address: str = "127.0.0.1",
    client: Client | None = None,
    **headers: str,
) -> Any:
    client = client or Client(HTTP_HOST=host, REMOTE_ADDR=address)
    response = client.post(path, {"username": email, "password": password}, **headers)
    connection.set_schema_to_public()
    return response


def assert_refused(response: Any) -> None:
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])  # the end of a fixed window
    assert 1 <= retry_after <= PERIOD
    minutes = -(-retry_after // 60)
    unit = "minute" if minutes == 1 else "minutes"
    body = response.content.decode()
    assert f"Too many login attempts. Try again in {minutes} {unit}." in body
    assert "<form" in body  # the form's own page, not a bare error
    assert response["Content-Type"].startswith("text/html")


def test_default_limits_are_the_documented_ones() -> None:
    from waqti import settings as project_settings

    assert project_settings.WAQTI_PASSWORD_ATTEMPTS_PER_ACCOUNT == (10, 900)
    assert project_settings.WAQTI_PASSWORD_ATTEMPTS_PER_ADDRESS == (50, 900)


@pytest.mark.parametrize(("host", "path"), FORMS)
def test_attempts_past_the_account_limit_are_refused_even_with_the_right_password(
    db, acme, host, path
):
    make_account(host)
    for _ in range(PER_ACCOUNT):
        assert attempt(host, path, "wrong-password").status_code == 200
    client = Client(HTTP_HOST=host)
    refused = attempt(host, path, PASSWORD, client=client)
    assert_refused(refused)
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(("host", "path"), FORMS)
def test_account_limit_holds_across_addresses(db, acme, host, path):
    make_account(host)
    for n in range(PER_ACCOUNT):
        assert attempt(host, path, "wrong-password", address=f"203.0.113.{n}").status_code == 200
    assert_refused(attempt(host, path, PASSWORD, address="198.51.100.7"))


@pytest.mark.parametrize(("host", "path"), FORMS)
def test_address_limit_holds_across_accounts(db, acme, host, path):
    make_account(host)
    for n in range(PER_ADDRESS):
        assert attempt(host, path, "guess", email=f"user{n}@acme.example").status_code == 200
    assert_refused(attempt(host, path, PASSWORD))
    assert attempt(host, path, PASSWORD, address="198.51.100.7").status_code == 302


@pytest.mark.parametrize(("host", "path"), FORMS)
def test_a_refused_attempt_never_reaches_the_password_check(db, acme, host, path):
    make_account(host)
    for _ in range(PER_ACCOUNT):
        attempt(host, path, "wrong-password")
    original = ModelBackend.authenticate
    with mock.patch.object(
        ModelBackend, "authenticate", autospec=True, side_effect=original
    ) as checked:
        assert attempt(host, path, PASSWORD).status_code == 429
    assert checked.call_count == 0


@pytest.mark.parametrize(("host", "path"), FORMS)
def test_the_refusal_is_in_the_users_language(db, acme, host, path):
    make_account(host)
    for _ in range(PER_ACCOUNT):
        attempt(host, path, "wrong-password")
    refused = attempt(host, path, PASSWORD, HTTP_ACCEPT_LANGUAGE="ar")
    assert refused.status_code == 429
    assert "محاولات تسجيل دخول كثيرة" in refused.content.decode()


@pytest.mark.parametrize(("host", "path"), FORMS)
def test_a_refusal_is_logged_once_with_tenant_account_and_address(db, acme, host, path, caplog):
    make_account(host)
    for _ in range(PER_ACCOUNT):
        attempt(host, path, "wrong-password")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="waqti.security"):
        attempt(host, path, PASSWORD, address="198.51.100.7")
    lines = [r for r in caplog.records if r.name == "waqti.security"]
    assert len(lines) == 1
    assert lines[0].levelno == logging.WARNING
    message = lines[0].getMessage()
    expected_schema = "public" if host == "localhost" else "t_acme_corp"
    assert f"tenant={expected_schema}" in message
    assert f"account='{EMAIL}'" in message
    assert "address=198.51.100.7" in message
    assert PASSWORD not in message


@pytest.mark.parametrize(("host", "path"), FORMS)
def test_every_attempt_counts_successful_ones_included(db, acme, host, path):
    make_account(host)
    for _ in range(PER_ACCOUNT):
        assert attempt(host, path, PASSWORD).status_code == 302
    assert_refused(attempt(host, path, PASSWORD))


def test_showing_the_form_is_not_an_attempt(acme):
    make_account("acme.localhost")
    client = Client(HTTP_HOST="acme.localhost")
    for _ in range(PER_ADDRESS + 1):
        assert client.get("/settings/login/").status_code == 200
        assert client.get("/admin/login/").status_code == 200
    connection.set_schema_to_public()
    assert attempt("acme.localhost", "/settings/login/", PASSWORD).status_code == 302


def test_settings_and_admin_login_share_the_accounts_budget(acme):
    make_account("acme.localhost")
    attempt("acme.localhost", "/settings/login/", "wrong-password")
    attempt("acme.localhost", "/admin/login/", "wrong-password", address="203.0.113.9")
    attempt("acme.localhost", "/settings/login/", "wrong-password", address="203.0.113.10")
    assert_refused(attempt("acme.localhost", "/admin/login/", PASSWORD))


def test_counters_of_one_tenant_do_not_affect_another(acme, globex):
    make_account("acme.localhost")
    make_account("globex.localhost")  # the same e-mail address, another tenant
    for n in range(PER_ADDRESS):
        attempt("acme.localhost", "/settings/login/", "wrong-password", email=f"x{n}@acme.example")
    for _ in range(PER_ACCOUNT):
        attempt("acme.localhost", "/settings/login/", "wrong-password", address="203.0.113.1")
    assert attempt("acme.localhost", "/settings/login/", PASSWORD).status_code == 429
    assert attempt("globex.localhost", "/settings/login/", PASSWORD).status_code == 302
    assert attempt("globex.localhost", "/admin/login/", PASSWORD).status_code == 302
    assert attempt("localhost", "/admin/login/", "wrong-password").status_code == 200


def test_admin_password_change_counts_the_old_password_guesses(acme):
    make_account("acme.localhost")
    client = Client(HTTP_HOST="acme.localhost")
    assert attempt("acme.localhost", "/admin/login/", PASSWORD, client=client).status_code == 302

    def change(old: str) -> Any:
        response = client.post(
            "/admin/password_change/",
            {"old_password": old, "new_password1": "n3w-passphrase!", "new_password2": "n3w-"},
        )
        connection.set_schema_to_public()
        return response

    for _ in range(PER_ACCOUNT - 1):  # the login used one attempt of the account's budget
        assert change("wrong-password").status_code == 200
    refused = change(PASSWORD)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "Too many login attempts" in refused.content.decode()


def test_a_cache_outage_lets_attempts_through_and_says_so(acme, caplog):
    make_account("acme.localhost")
    with (
        mock.patch.object(caches["default"], "add", side_effect=ConnectionError("down")),
        caplog.at_level(logging.ERROR, logger="waqti.security"),
    ):
        response = attempt("acme.localhost", "/settings/login/", PASSWORD)
    assert response.status_code == 302
    assert "password attempts not counted: cache unreachable (ConnectionError)" in caplog.text
