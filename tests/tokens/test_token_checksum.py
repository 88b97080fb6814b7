"""Checksummed secrets over HTTP: a wrong checksum is refused before any lookup, with the seed's
401; tokens issued before checksums keep working, and regenerating one gives it a checksum."""

from __future__ import annotations

import importlib
import re
import secrets as random
from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenancy.models import Tenant
from tenancy.resolver import resolver
from tests.helpers import UNAUTHENTICATED, issue_token
from tokens import lookup, secrets
from tokens.models import ApiToken
from tokens.ratelimit.memo import exhausted
from tokens.secrets import parse_bearer

README = django_settings.BASE_DIR / "README.md"
boundary_migration = importlib.import_module("tokens.migrations.0005_token_checksum_boundary")


def assert_unauthenticated(response) -> None:
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED
    assert response["WWW-Authenticate"] == "Bearer"
    assert response["Content-Type"] == "application/json"


def changed_at(plaintext: str, position: int) -> str:
    """``plaintext`` with the secret's character at ``position`` replaced by another one."""
    token_id, secret = plaintext.split("|")
    other = "b" if secret[position] == "a" else "a"
    return f"{token_id}|{secret[:position]}{other}{secret[position + 1 :]}"


def legacy_secret() -> str:
    """40 random characters, as secrets were issued before checksums."""
    return "".join(random.choice(secrets.SECRET_ALPHABET) for _ in range(40))


def issue_legacy_token(tenant: Tenant, abilities: list[str], name: str = "Legacy") -> str:
    """A token as issued before checksums, then the upgrade's migration run on its schema."""
    with tenant_context(tenant):
        row = ApiToken.objects.create(name=name, abilities=abilities, secret_hash="")
        secret = legacy_secret()
        while secrets.checksum_matches(row.pk, secret):  # one chance in 2**32
            secret = legacy_secret()
        row.secret_hash = secrets.hash_secret(secret)
        row.save(update_fields=["secret_hash"])
        boundary_migration.record_first_checksummed_token_id(
            apps, SimpleNamespace(connection=connection)
        )
    connection.set_schema_to_public()
    resolver.invalidate()  # as the deploy restarts the workers
    return secrets.format_token(row.pk, secret)


@pytest.fixture
def lookups(monkeypatch) -> list[int]:
    """The token ids the request path looked up (``tokens.lookup.find_token`` calls)."""
    seen: list[int] = []
    find_token = lookup.find_token

    def spy(token_id, *args, **kwargs):
        seen.append(token_id)
        return find_token(token_id, *args, **kwargs)

    monkeypatch.setattr(lookup, "find_token", spy)
    return seen


def without_per_request_headers(response) -> dict[str, str]:
    """Headers that must be identical between two refusals of the same kind (the guard's count
    and the request id differ from one request to the next)."""
    varying = {"X-Request-ID", "X-RateLimit-Remaining"}
    return {name: value for name, value in response.items() if name not in varying}


@pytest.mark.parametrize("cached", [True, False], ids=["cached-here", "never-seen-here"])
@pytest.mark.parametrize("position", [0, 20, 33, 34, 39], ids=lambda p: f"char-{p}")
def test_a_wrong_checksum_gets_the_seeds_401_with_no_sql_and_no_lookup(
    db, api, acme, clock, redis_calls, lookups, position, cached
):
    token = issue_token(acme, ["read"])
    if cached:  # this worker holds the token's snapshot
        assert api(acme, token).get("/api/v1/me").status_code == 200
    else:  # it has only resolved the host (one query per worker and host)
        assert api(acme).get("/settings/login/").status_code == 200
    client = api(acme, changed_at(token, position))  # (finding the host is a query)
    redis_calls.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/me")
    assert_unauthenticated(response)
    assert [q["sql"] for q in queries] == []
    assert lookups == [int(token.split("|")[0])] * cached  # none for the corrupted secret
    # Redis: only the per-IP guard's count, as for a malformed header; not the token version.
    sent = [b"".join(call) for call in redis_calls]
    assert len(sent) == 1 and b"waqti.auth-failures" in sent[0]
    assert lookup.VERSION_KEY.encode() not in sent[0]
    malformed = api(acme, "not a token").get("/api/v1/me")
    assert (malformed.status_code, malformed.content) == (response.status_code, response.content)
    assert without_per_request_headers(malformed) == without_per_request_headers(response)
    assert int(response["X-RateLimit-Remaining"]) == int(malformed["X-RateLimit-Remaining"]) + 1


def test_a_wrong_checksum_over_the_guards_budget_costs_no_redis_and_no_sql(
    db, api, acme, clock, settings, redis_calls, lookups
):
    settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE = 1
    corrupted = api(acme, changed_at(issue_token(acme, ["read"]), 39))
    assert_unauthenticated(corrupted.get("/api/v1/me"))  # spends the budget
    headers = {"X-Request-ID": "checksum-429"}
    redis_calls.clear()
    with CaptureQueriesContext(connection) as queries:
        early = corrupted.get("/api/v1/purchase-orders", headers=headers)
    assert (redis_calls, [q["sql"] for q in queries]) == ([], [])
    assert early.status_code == 429
    assert early.json()["errors"]["rate_limit"][0].startswith(
        "Too many requests with a missing or invalid token from this address (1 per minute)."
    )
    exhausted.clear()  # the same refusal through DRF: identical
    normal = corrupted.get("/api/v1/purchase-orders", headers=headers)
    assert (normal.status_code, normal.content, dict(normal.items())) == (
        early.status_code,
        early.content,
        dict(early.items()),
    )
    assert lookups == []


def test_a_token_issued_before_checksums_keeps_working(db, api, acme, clock, lookups):
    legacy = issue_legacy_token(acme, ["read"], name="Old ERP")
    legacy_id = int(legacy.split("|")[0])
    assert not secrets.checksum_matches(legacy_id, legacy.split("|")[1])
    response = api(acme, legacy).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["data"]["token_name"] == "Old ERP"
    client = api(acme, legacy)
    with CaptureQueriesContext(connection) as queries:  # cached as any token
        assert client.get("/api/v1/me").status_code == 200
    assert [q["sql"] for q in queries] == []
    # A wrong secret for a legacy id is looked up, as any well-formed token was before.
    assert_unauthenticated(api(acme, changed_at(legacy, 5)).get("/api/v1/me"))
    assert lookups == [legacy_id] * 3
    # Tokens issued after the upgrade carry a checksum and get the no-lookup refusal.
    new = issue_token(acme, ["read"])
    new_id, new_secret = new.split("|")
    assert int(new_id) > legacy_id and secrets.checksum_matches(int(new_id), new_secret)
    assert_unauthenticated(api(acme, changed_at(new, 0)).get("/api/v1/me"))
    assert lookups == [legacy_id] * 3
    assert api(acme, new).get("/api/v1/me").status_code == 200


def test_regenerating_a_legacy_token_gives_it_a_checksummed_secret(db, api, acme, clock, lookups):
    legacy = issue_legacy_token(acme, ["read", "write"], name="Old ERP")
    admin = api(acme, issue_token(acme, ["admin"], name="Admin"))
    legacy_id = int(legacy.split("|")[0])
    response = admin.post(f"/api/v1/tokens/{legacy_id}/regenerate", {"grace_period_minutes": 60})
    assert response.status_code == 200
    regenerated = response.json()["data"]["token"]
    token_id, secret = regenerated.split("|")
    assert int(token_id) == legacy_id and secrets.checksum_matches(legacy_id, secret)
    assert re.fullmatch(r"\d+\|[A-Za-z0-9]{40}", regenerated)
    assert api(acme, regenerated).get("/api/v1/me").status_code == 200
    assert api(acme, legacy).get("/api/v1/me").status_code == 200  # within its grace period
    later = timezone.now() + timedelta(minutes=61)
    with mock.patch("tokens.authentication.timezone.now", return_value=later):
        assert_unauthenticated(api(acme, legacy).get("/api/v1/me"))
        assert api(acme, regenerated).get("/api/v1/me").status_code == 200
    # Its id stays below the tenant's boundary: a wrong checksum is still looked up (it may be
    # the legacy secret of another grace period), never refused unseen.
    lookups.clear()
    assert_unauthenticated(api(acme, changed_at(regenerated, 39)).get("/api/v1/me"))
    assert lookups == [legacy_id]


def test_the_migration_puts_each_tenants_boundary_past_its_tokens(db, acme, globex):
    assert (acme.first_checksummed_token_id, globex.first_checksummed_token_id) == (1, 1)
    highest = int(issue_token(acme, ["read"]).split("|")[0])
    for tenant in (acme, globex):
        with tenant_context(tenant):
            boundary_migration.record_first_checksummed_token_id(
                apps, SimpleNamespace(connection=connection)
            )
    connection.set_schema_to_public()
    acme.refresh_from_db()
    globex.refresh_from_db()
    assert (acme.first_checksummed_token_id, globex.first_checksummed_token_id) == (highest + 1, 1)


def test_every_issuer_hands_out_checksummed_tokens(db, api, acme, capsys):
    admin = api(acme, issue_token(acme, ["admin"]))
    created = admin.post("/api/v1/tokens", {"name": "API", "abilities": ["read"]}).json()["data"]
    call_command("issue_token", "acme-corp", "--name", "CLI", "--abilities", "read")
    printed = capsys.readouterr().out.strip()
    for plaintext in (created["token"], printed):
        token_id, secret = plaintext.split("|")
        assert secrets.checksum_matches(int(token_id), secret), plaintext


def readme_checker() -> dict:
    """Run the README's secret-scanner snippet (section "Token format") and return its names."""
    text = README.read_text()
    section = text.split("### Token format", 1)[1].split("\n### ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    names: dict = {}
    exec(compile(code, "README.md", "exec"), names)  # noqa: S102 - our own documentation
    return names


def test_the_readmes_scanner_finds_real_tokens_and_nothing_else():
    find_tokens = readme_checker()["find_tokens"]
    issued = [
        secrets.format_token(token_id, secrets.generate_secret(token_id))
        for token_id in (1, 42, 7_000_000, secrets.MAX_TOKEN_ID)
    ]
    text = " ".join(f"export WAQTI_TOKEN='{token}'" for token in issued)
    assert find_tokens(text) == issued
    assert find_tokens("3|a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q73SU4fm") == [
        "3|a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q73SU4fm"  # the README's example
    ]
    corrupted = [changed_at(token, position) for token in issued for position in (0, 33, 34, 39)]
    legacy = [secrets.format_token(n, legacy_secret()) for n in range(1, 50)]
    legacy = [t for t in legacy if not secrets.checksum_matches(*parse_bearer(f"Bearer {t}"))]
    longer = [f"{token}x" for token in issued]
    assert find_tokens(" ".join(corrupted + legacy + longer)) == []
