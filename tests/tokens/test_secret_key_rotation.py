"""Rotating DJANGO_SECRET_KEY: tokens hashed under a fallback key work and are re-hashed."""

from __future__ import annotations

import os
from unittest import mock

from django.conf import settings as django_settings
from django.db import connection
from django_tenants.utils import tenant_context

from tests.helpers import UNAUTHENTICATED, issue_token
from tests.live_server import run_manage
from tokens import secrets
from tokens.models import ApiToken
from tokens.services import Actor, token_regenerate, token_rehash
from tokens.snapshot import TokenSnapshot

OLD_KEY = "old-secret-key-" + "o" * 40
NEW_KEY = "new-secret-key-" + "n" * 40


def use_keys(settings, current: str, *fallbacks: str) -> None:
    """What a restart with DJANGO_SECRET_KEY=current and DJANGO_SECRET_KEY_FALLBACKS gives."""
    settings.SECRET_KEY = settings.WAQTI_TOKEN_PEPPER = current
    settings.SECRET_KEY_FALLBACKS = settings.WAQTI_TOKEN_PEPPER_FALLBACKS = list(fallbacks)


def stored_hashes(tenant, token: str) -> tuple[str, str]:
    with tenant_context(tenant):
        row = ApiToken.objects.get(pk=int(token.split("|")[0]))
    connection.set_schema_to_public()
    return row.secret_hash, row.previous_secret_hash


def secret_of(token: str) -> str:
    return token.split("|")[1]


def test_a_token_hashed_under_a_fallback_key_authenticates_and_is_rehashed(
    db, api, acme, clock, settings
):
    use_keys(settings, OLD_KEY)
    token = issue_token(acme, ["read"])
    client = api(acme, token)
    assert client.get("/api/v1/me").status_code == 200  # and cached in this worker
    assert stored_hashes(acme, token)[0] == secrets.hash_secret(secret_of(token), OLD_KEY)

    use_keys(settings, NEW_KEY)  # rotated without keeping the old key: what the issue reproduced
    assert client.get("/api/v1/me").json() == UNAUTHENTICATED

    use_keys(settings, NEW_KEY, OLD_KEY)
    response = client.get("/api/v1/me")
    assert response.status_code == 200 and response.json()["data"]["abilities"] == ["read"]
    assert stored_hashes(acme, token)[0] == secrets.hash_secret(secret_of(token), NEW_KEY)
    assert client.get("/api/v1/me").status_code == 200

    use_keys(settings, NEW_KEY)  # the old key removed entirely
    assert client.get("/api/v1/me").status_code == 200


def test_a_previous_secret_in_its_grace_period_is_rehashed_too(db, api, acme, clock, settings):
    use_keys(settings, OLD_KEY)
    old = issue_token(acme, ["read"])
    with tenant_context(acme):
        row = ApiToken.objects.get(pk=int(old.split("|")[0]))
        new = token_regenerate(token=row, grace_period_minutes=60, actor=Actor()).plaintext
    connection.set_schema_to_public()

    use_keys(settings, NEW_KEY, OLD_KEY)
    assert api(acme, old).get("/api/v1/me").status_code == 200
    assert stored_hashes(acme, old) == (
        secrets.hash_secret(secret_of(new), OLD_KEY),  # not used yet: still under the old key
        secrets.hash_secret(secret_of(old), NEW_KEY),
    )
    assert api(acme, new).get("/api/v1/me").status_code == 200
    assert stored_hashes(acme, new)[0] == secrets.hash_secret(secret_of(new), NEW_KEY)

    use_keys(settings, NEW_KEY)
    assert api(acme, old).get("/api/v1/me").status_code == 200
    assert api(acme, new).get("/api/v1/me").status_code == 200


def test_rehash_is_conditional_so_concurrent_requests_and_regenerates_are_safe(db, acme, settings):
    use_keys(settings, OLD_KEY)
    token = issue_token(acme, ["read"])
    secret = secret_of(token)
    use_keys(settings, NEW_KEY, OLD_KEY)
    with tenant_context(acme):
        row = ApiToken.objects.get(pk=int(token.split("|")[0]))
        assert token_rehash(token_id=row.pk, field="secret_hash", secret=secret)
        assert not token_rehash(token_id=row.pk, field="secret_hash", secret=secret)  # done once
        regenerated = token_regenerate(token=row, actor=Actor())
        # A request that matched the old secret before the regenerate must not undo it.
        assert not token_rehash(token_id=row.pk, field="secret_hash", secret=secret)
        row.refresh_from_db()
    assert row.secret_hash == secrets.hash_secret(secret_of(regenerated.plaintext), NEW_KEY)


def test_matching_costs_one_hmac_for_a_current_hash_with_or_without_fallbacks(db, acme, settings):
    token = issue_token(acme, ["read"])
    with tenant_context(acme):
        snapshot = TokenSnapshot.from_row(
            ApiToken.objects.get(pk=int(token.split("|")[0])), b"1", 0.0
        )
    for fallbacks in ([], ["a", "b", "c"]):
        settings.WAQTI_TOKEN_PEPPER_FALLBACKS = fallbacks
        with mock.patch.object(secrets, "hash_secret", wraps=secrets.hash_secret) as hmacs:
            assert snapshot.match(secret_of(token), snapshot.created_at) is not None
        assert hmacs.call_count == 1


def test_secret_key_fallbacks_come_from_the_environment():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WAQTI_"))}
    env.pop("PYTEST_CURRENT_TEST", None)
    env.update(
        DATABASE_URL=django_settings.DATABASE_URL,
        DJANGO_SECRET_KEY="current-key",
        DJANGO_SECRET_KEY_FALLBACKS=" older-key , oldest-key,,current-key",
    )
    code = (
        "from django.conf import settings as s; "
        "print(s.SECRET_KEY_FALLBACKS, s.WAQTI_TOKEN_PEPPER, s.WAQTI_TOKEN_PEPPER_FALLBACKS)"
    )
    result = run_manage(env, "shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip()
        == "['older-key', 'oldest-key'] current-key ['older-key', 'oldest-key']"
    )
