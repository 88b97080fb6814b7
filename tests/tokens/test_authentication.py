"""Bearer authentication over HTTP: every bad input gets the seed's exact 401."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.helpers import UNAUTHENTICATED, forbidden, issue_token
from tokens.models import ApiToken
from tokens.services import Actor, token_revoke, token_touch
from waqti.api.serializers import utc_timestamp

SECRET = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0"


def assert_unauthenticated(response):
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED
    assert response["WWW-Authenticate"] == "Bearer"
    assert response["Content-Type"] == "application/json"


def test_me_answers_the_seed_shape(db, api, acme):
    token = issue_token(acme, ["read", "write"], name="ERP Integration")
    response = api(acme, token).get("/api/v1/me", headers={"Accept": "application/json"})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["data"]
    assert list(body["data"]) == [
        "tenant_id",
        "tenant_name",
        "token_name",
        "abilities",
        "last_used_at",
    ]
    assert body["data"]["tenant_id"] == "acme-corp"
    assert body["data"]["tenant_name"] == "ACME Corporation"
    assert body["data"]["token_name"] == "ERP Integration"
    assert body["data"]["abilities"] == ["read", "write"]
    assert body["data"]["last_used_at"].endswith("Z")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("Bearer", id="bearer-alone"),
        pytest.param(f"Basic 1|{SECRET}", id="basic"),
        pytest.param(f"Token 1|{SECRET}", id="token-scheme"),
        pytest.param(f"Bearer   1|{SECRET}", id="extra-spaces"),
        pytest.param(f"Bearer 1{SECRET}", id="no-pipe"),
        pytest.param(f"Bearer |{SECRET}", id="empty-id"),
        pytest.param("Bearer 1|", id="empty-secret"),
        pytest.param(f"Bearer abc|{SECRET}", id="non-numeric-id"),
        pytest.param(f"Bearer -1|{SECRET}", id="negative-id"),
        pytest.param(f"Bearer 18446744073709551616|{SECRET}", id="id-beyond-64-bits"),
        pytest.param(f"Bearer 1|{SECRET[:20]}", id="short-secret"),
        pytest.param(f"Bearer 1|{SECRET[:-1]}!", id="bad-alphabet"),
        pytest.param(f"Bearer 1|{SECRET[:-1]}\u00e9", id="non-ascii"),
        pytest.param(f"Bearer 1|{SECRET[:-1]}\x00", id="nul-byte"),
        pytest.param("Bearer " + "x" * 8192, id="8kb-header"),
    ],
)
def test_bad_authorization_header_is_401(db, api, acme, header):
    headers = {"Authorization": header} if header is not None else {}
    assert_unauthenticated(api(acme).get("/api/v1/me", headers=headers))


def test_wrong_secret_for_existing_token_is_401(db, api, acme):
    token_id = issue_token(acme, ["read"]).split("|")[0]
    assert_unauthenticated(api(acme, f"{token_id}|{SECRET}").get("/api/v1/me"))


def test_unknown_token_id_is_401(db, api, acme):
    assert_unauthenticated(api(acme, f"987654321|{SECRET}").get("/api/v1/me"))


def test_revoked_token_is_401_on_next_request(db, api, acme):
    token = issue_token(acme, ["read"])
    assert api(acme, token).get("/api/v1/me").status_code == 200
    with tenant_context(acme):
        token_revoke(token=ApiToken.objects.get(pk=token.split("|")[0]), actor=Actor(label="tests"))
    assert_unauthenticated(api(acme, token).get("/api/v1/me"))


def test_expired_token_is_401(db, api, acme):
    token = issue_token(acme, ["read"], expires_at=timezone.now() + timedelta(minutes=5))
    assert api(acme, token).get("/api/v1/me").status_code == 200
    later = timezone.now() + timedelta(minutes=5, seconds=1)
    with mock.patch("tokens.authentication.timezone.now", return_value=later):
        assert_unauthenticated(api(acme, token).get("/api/v1/me"))


def test_another_tenants_token_is_401(db, api, acme, globex):
    token = issue_token(acme, ["admin"])
    assert_unauthenticated(api(globex, token).get("/api/v1/me"))


def test_missing_ability_is_403_naming_it(db, api, acme):
    token = issue_token(acme, ["read"])
    response = api(acme, token).get("/api/v1/tokens")
    assert response.status_code == 403
    assert response.json() == forbidden("admin")


def test_last_used_at_is_written_at_most_once_a_minute(db, api, acme):
    token = issue_token(acme, ["read"])
    token_id = token.split("|")[0]
    client = api(acme, token)
    client.get("/api/v1/me")
    with tenant_context(acme):
        first = ApiToken.objects.get(pk=token_id).last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/me")
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    later = timezone.now() + timedelta(seconds=61)
    with mock.patch("tokens.authentication.timezone.now", return_value=later):
        assert client.get("/api/v1/me").json()["data"]["last_used_at"] == utc_timestamp(later)
    with tenant_context(acme):
        assert ApiToken.objects.get(pk=token_id).last_used_at == later


def test_me_in_steady_state_costs_at_most_one_query_and_no_write(db, api, acme):
    token = issue_token(acme, ["read"])
    client = api(acme, token)
    client.get("/api/v1/me")
    client.get("/api/v1/me")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/me")
    assert response.status_code == 200
    statements = [q["sql"] for q in queries if not q["sql"].startswith("SET search_path")]
    assert len(statements) <= 1, statements
    for sql in statements:
        assert sql.startswith("SELECT") and '"tokens_apitoken"."id" =' in sql


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_token_touch_never_moves_last_used_at_of_an_unusable_token(db, acme, state):
    now = timezone.now()
    token = issue_token(acme, ["read"], expires_at=now + timedelta(minutes=1))
    with tenant_context(acme):
        row = ApiToken.objects.get(pk=token.split("|")[0])
        stale = ApiToken.objects.get(pk=row.pk)  # what a worker read before the change
        if state == "revoked":
            token_revoke(token=row, actor=Actor(label="tests"))
            when = now + timedelta(seconds=30)
        else:
            when = now + timedelta(minutes=2)
        token_touch(stale, when)
        assert ApiToken.objects.get(pk=row.pk).last_used_at is None
