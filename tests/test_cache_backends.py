"""Limits and tokens behave the same on Redis and on the process-local cache of ``make run``.

The suite runs on Redis (tests/settings.py); these tests run once more on the process-local
cache that ``make run`` without REDIS_URL serves from, so that path stays tested too.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from tests.helpers import UNAUTHENTICATED, issue_token


@pytest.fixture(params=["redis", "process-local"], autouse=True)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "process-local":
        request.getfixturevalue("process_local_cache")
    return request.param


@pytest.fixture
def limits(settings: Any) -> Any:
    def set_limits(**plans: tuple[int | None, int | None]) -> None:
        settings.WAQTI_RATE_LIMITS = {**settings.WAQTI_RATE_LIMITS, **plans}

    return set_limits


def test_cache_is_the_backend_named(backend):
    expected = RedisCache if backend == "redis" else LocMemCache
    assert isinstance(caches["default"], expected)


def test_plan_limit_refuses_with_the_contracts_429(db, api, acme, clock, limits):
    limits(professional=(3, None))
    client = api(acme, issue_token(acme, ["read"]))
    admitted = [client.get("/api/v1/me") for _ in range(3)]
    assert [r.status_code for r in admitted] == [200, 200, 200]
    assert [r["X-RateLimit-Remaining"] for r in admitted] == ["2", "1", "0"]
    first, second = client.get("/api/v1/me"), client.get("/api/v1/me")
    for refused in (first, second):  # the second may come from the early-refusal path
        reset = int(refused["X-RateLimit-Reset"])
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) == reset - int(clock.now) >= 1
        assert (refused["X-RateLimit-Limit"], refused["X-RateLimit-Remaining"]) == ("3", "0")
        assert refused.json() == {
            "message": "Too Many Requests.",
            "errors": {
                "rate_limit": [
                    "Rate limit of 3 requests per minute for the professional plan exceeded. "
                    f"Retry in {refused['Retry-After']} seconds."
                ]
            },
        }
    assert second.content == first.content


def test_window_reopens_after_retry_after(db, api, acme, clock, limits):
    limits(professional=(1, None))
    client = api(acme, issue_token(acme, ["read"]))
    assert client.get("/api/v1/me").status_code == 200
    refused = client.get("/api/v1/me")
    clock.advance(int(refused["Retry-After"]))
    assert client.get("/api/v1/me").status_code == 200


def test_daily_quota_is_counted(db, api, acme, clock, limits):
    limits(professional=(10, 2))
    client = api(acme, issue_token(acme, ["read"]))
    assert [client.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]
    clock.advance(60)
    refused = client.get("/api/v1/me")
    assert refused.status_code == 429
    assert "Daily quota of 2 requests" in refused.json()["errors"]["rate_limit"][0]


def test_tenants_never_share_a_budget(db, api, acme, globex, clock, limits):
    limits(professional=(1, None), enterprise=(1, None))
    assert api(acme, issue_token(acme, ["read"])).get("/api/v1/me").status_code == 200
    assert api(globex, issue_token(globex, ["read"])).get("/api/v1/me").status_code == 200


def test_revoked_token_is_refused_on_its_next_request(db, api, acme, clock):
    admin = api(acme, issue_token(acme, ["admin"], name="admin"))
    plaintext = issue_token(acme, ["read"], name="soon revoked")
    revoked = api(acme, plaintext)
    assert revoked.get("/api/v1/me").status_code == 200
    token_id = plaintext.split("|", 1)[0]
    assert admin.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    refused = revoked.get("/api/v1/me")
    assert (refused.status_code, refused.json()) == (401, UNAUTHENTICATED)


def test_bad_tokens_are_limited_per_address(db, api, acme, clock, settings):
    settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE = 2
    guessing = api(acme, "42|" + "x" * 40)
    assert [guessing.get("/api/v1/me").status_code for _ in range(3)] == [401, 401, 429]


def test_password_attempts_are_limited(db, acme, client, settings):
    settings.WAQTI_PASSWORD_ATTEMPTS_PER_ACCOUNT = (2, 900)
    form = {"username": "nobody@acme.example", "password": "wrong"}
    statuses = [
        client.post("/settings/login/", form, HTTP_HOST="acme.localhost").status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
