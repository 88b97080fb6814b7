"""CLI: add_tenant, issue_token, prune_tokens, seed_demo — errors leave nothing behind."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_exists, tenant_context

from tenancy.models import Domain, Tenant
from tests.helpers import issue_token
from tokens.models import ApiToken


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_add_tenant_creates_schema_domains_and_plan(db, api, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ".waqti.sa"]
    output = run(
        "add_tenant",
        "umbrella",
        "--name",
        "Umbrella KSA",
        "--domain",
        "umbrella.localhost",
        "--domain",
        "umbrella.waqti.sa",
        "--plan",
        "enterprise",
    )
    assert "Created tenant umbrella" in output
    tenant = Tenant.objects.get(slug="umbrella")
    assert (tenant.name, tenant.plan, tenant.schema_name) == (
        "Umbrella KSA",
        "enterprise",
        "t_umbrella",
    )
    assert schema_exists("t_umbrella")
    assert tenant.get_primary_domain().domain == "umbrella.localhost"
    token = issue_token(tenant, ["read"])
    assert (
        api("umbrella.waqti.sa", token).get("/api/v1/me").json()["data"]["tenant_id"] == "umbrella"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["acme-corp", "--name", "Dup", "--domain", "dup.localhost", "--plan", "professional"],
            "a tenant with slug 'acme-corp' already exists",
        ),
        (
            ["fresh", "--name", "Dup", "--domain", "acme.localhost", "--plan", "professional"],
            "domain 'acme.localhost' already belongs to a tenant",
        ),
        (
            ["fresh", "--name", "X", "--domain", "fresh.localhost", "--plan", "gold"],
            "unknown plan 'gold'",
        ),
        (
            ["Bad_Slug", "--name", "X", "--domain", "fresh.localhost", "--plan", "professional"],
            "invalid slug",
        ),
        (
            [
                "fresh",
                "--name",
                "X",
                "--domain",
                "http://fresh.localhost:8000",
                "--plan",
                "professional",
            ],
            "invalid domain",
        ),
        (
            ["fresh", "--name", " ", "--domain", "fresh.localhost", "--plan", "professional"],
            "name must not be empty",
        ),
    ],
)
def test_add_tenant_refuses_bad_input_and_creates_nothing(db, args, message):
    tenants, domains = Tenant.objects.count(), Domain.objects.count()
    with pytest.raises(CommandError, match=re.escape(message)):
        run("add_tenant", *args)
    assert (Tenant.objects.count(), Domain.objects.count()) == (tenants, domains)
    assert not schema_exists("t_fresh") and not schema_exists("t_bad_slug")


def test_add_tenant_failure_after_schema_creation_rolls_everything_back(db, monkeypatch):
    def broken_create(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Domain.objects, "create", broken_create)
    with pytest.raises(RuntimeError):
        run(
            "add_tenant",
            "halfway",
            "--name",
            "Half",
            "--domain",
            "half.localhost",
            "--plan",
            "professional",
        )
    connection.set_schema_to_public()
    assert not Tenant.objects.filter(slug="halfway").exists()
    assert not schema_exists("t_halfway")


def test_issue_token_prints_only_the_token(db, api, acme):
    output = run(
        "issue_token", "acme-corp", "--name", "ERP Integration", "--abilities", "read,write"
    )
    assert re.fullmatch(r"\d+\|[A-Za-z0-9]{40}\n", output)
    me = api(acme, output.strip()).get("/api/v1/me").json()["data"]
    assert (me["token_name"], me["abilities"]) == ("ERP Integration", ["read", "write"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody", "--name", "x", "--abilities", "read"], "unknown tenant 'nobody'"),
        (["acme-corp", "--name", "x", "--abilities", "read,root"], "bad --abilities"),
        (["acme-corp", "--name", "x", "--abilities", ","], "bad --abilities"),
        (
            [
                "acme-corp",
                "--name",
                "x",
                "--abilities",
                "read",
                "--expires-at",
                "2001-01-01T00:00:00Z",
            ],
            "must be in the future",
        ),
        (
            ["acme-corp", "--name", "x", "--abilities", "read", "--expires-at", "tomorrow"],
            "is not ISO 8601",
        ),
        (
            ["acme-corp", "--name", "x", "--abilities", "read", "--allowed-ips", "10.0.0.0/33"],
            "--allowed-ips: Enter IPv4 or IPv6 addresses or CIDRs.",
        ),
    ],
)
def test_issue_token_refuses_bad_input(db, acme, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run("issue_token", *args)
    with tenant_context(acme):
        assert not ApiToken.objects.filter(name="x").exists()


def test_issue_token_with_expiry(db, acme):
    expires = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    token_id = run(
        "issue_token", "acme-corp", "--name", "Temp", "--abilities", "read", "--expires-at", expires
    ).split("|")[0]
    with tenant_context(acme):
        assert ApiToken.objects.get(pk=token_id).expires_at is not None


def test_issue_token_with_an_allowlist(db, api, acme):
    token = run(
        "issue_token",
        "acme-corp",
        "--name",
        "Office",
        "--abilities",
        "read",
        "--allowed-ips",
        "192.0.2.7, 2001:db8::/32",
    ).strip()
    with tenant_context(acme):
        stored = ApiToken.objects.get(pk=token.split("|")[0]).allowed_ips
    assert stored == ["192.0.2.7/32", "2001:db8::/32"]
    assert api(acme, token).get("/api/v1/me").status_code == 403  # the test client: 127.0.0.1


def test_prune_tokens_deletes_only_long_dead_tokens(db, api, acme):
    keep = issue_token(acme, ["read"], name="keep").split("|")[0]
    recent = issue_token(acme, ["read"], name="recently revoked").split("|")[0]
    old = issue_token(acme, ["read"], name="long revoked").split("|")[0]
    with tenant_context(acme):
        ApiToken.objects.filter(pk=recent).update(revoked_at=timezone.now() - timedelta(days=2))
        ApiToken.objects.filter(pk=old).update(revoked_at=timezone.now() - timedelta(days=200))
    output = run("prune_tokens", "--older-than-days", "90")
    assert "acme-corp: pruned 1 token(s)" in output
    with tenant_context(acme):
        assert set(ApiToken.objects.values_list("pk", flat=True)) >= {int(keep), int(recent)}
        assert not ApiToken.objects.filter(pk=old).exists()


def test_seed_demo_is_idempotent_and_prints_a_working_curl_line(db, api, acme):
    first = run("seed_demo")
    second = run("seed_demo")
    assert Tenant.objects.filter(slug="acme-corp").count() == 1
    curl = next(line for line in second.splitlines() if line.strip().startswith("curl"))
    token = re.search(r"Bearer (\d+\|[A-Za-z0-9]{40})", curl).group(1)
    assert token not in first
    assert "http://acme.localhost:8000/api/v1/me" in curl
    assert api(acme, token).get("/api/v1/me").json()["data"]["abilities"] == ["admin"]
