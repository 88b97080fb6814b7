"""``manage.py create_tenant_admin``: the login of a tenant's Settings page."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from demo.management.commands.seed_demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD
from tokens.settings_ui.accounts import (
    TENANT_ADMIN_GROUP,
    TENANT_ADMIN_PERMISSIONS,
    is_tenant_admin,
)


def run(*args: str) -> str:
    out = io.StringIO()
    try:
        call_command("create_tenant_admin", *args, stdout=out)
    finally:
        connection.set_schema_to_public()
    return out.getvalue()


def test_create_tenant_admin_with_a_password(acme, globex):
    output = run("acme-corp", "--email", "Owner@Acme.Example", "--password", "a-long-passphrase")
    assert "Created tenant admin owner@acme.example for acme-corp." in output
    assert "Password:" not in output
    assert "http://acme.localhost/settings/login/" in output
    with tenant_context(acme):
        user = get_user_model().objects.get(username="owner@acme.example")
        assert user.is_staff and user.is_active and user.check_password("a-long-passphrase")
        assert not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [TENANT_ADMIN_GROUP]
        assert user.get_all_permissions() == set(TENANT_ADMIN_PERMISSIONS)
        assert is_tenant_admin(user)
    with tenant_context(globex):
        assert not get_user_model().objects.filter(username="owner@acme.example").exists()


def test_create_tenant_admin_prints_a_generated_password(acme):
    output = run("acme-corp", "--email", "owner@acme.example")
    password = output.split("Password: ")[1].split()[0]
    assert len(password) >= 20
    with tenant_context(acme):
        assert get_user_model().objects.get(username="owner@acme.example").check_password(password)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere", "--email", "a@b.example"], "unknown tenant 'nowhere'"),
        (["acme-corp", "--email", "not-an-address"], "invalid e-mail address 'not-an-address'"),
        (["acme-corp", "--email", "a@b.example", "--password", "short"], "weak password"),
        (["acme-corp", "--email", "a@b.example", "--password", "password"], "weak password"),
    ],
)
def test_create_tenant_admin_refuses_bad_input(acme, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_create_tenant_admin_refuses_a_duplicate(acme):
    run("acme-corp", "--email", "owner@acme.example", "--password", "a-long-passphrase")
    with pytest.raises(CommandError, match="already exists"):
        run("acme-corp", "--email", "OWNER@acme.example", "--password", "a-long-passphrase")


def test_seed_demo_creates_the_documented_demo_admin_idempotently(acme):
    for _ in range(2):
        out = io.StringIO()
        call_command("seed_demo", "--port", "8000", stdout=out, stderr=io.StringIO())
        connection.set_schema_to_public()
    assert (
        "Settings:    http://acme.localhost:8000/settings/login/  "
        "(log in as admin@acme.example / acme-demo-admin)"
    ) in out.getvalue()
    with tenant_context(acme):
        assert (
            get_user_model().objects.filter(username=DEMO_ADMIN_EMAIL, is_staff=True).count() == 1
        )
    client = Client(HTTP_HOST="acme.localhost")
    response = client.post(
        "/settings/login/", {"username": DEMO_ADMIN_EMAIL, "password": DEMO_ADMIN_PASSWORD}
    )
    connection.set_schema_to_public()
    assert response.status_code == 302 and response["Location"] == "/settings/api/"


def test_seed_demo_demotes_a_demo_admin_that_was_a_superuser(acme):
    with tenant_context(acme):
        get_user_model().objects.create_superuser(DEMO_ADMIN_EMAIL, DEMO_ADMIN_EMAIL, "x" * 12)
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
    connection.set_schema_to_public()
    with tenant_context(acme):
        user = get_user_model().objects.get(username=DEMO_ADMIN_EMAIL)
        assert user.is_staff and not user.is_superuser
        assert is_tenant_admin(user)
