"""Plan rate limits over HTTP: headers, 429s, windows, isolation; the clock is moved, not slept."""

from __future__ import annotations

import logging
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenancy.services import tenant_change_plan
from tests.helpers import UNAUTHENTICATED, forbidden, guessed_token, issue_token
from waqti.client_ip import parse_trusted_proxies

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.fixture
def limits(settings):
    def set_limits(**plans):
        settings.WAQTI_RATE_LIMITS = {**settings.WAQTI_RATE_LIMITS, **plans}

    return set_limits


def headers_of(response):
    return {name: response[name] for name in RATE_HEADERS if response.has_header(name)}


def test_every_authenticated_response_carries_the_minute_window(db, api, acme, clock):
    client = api(acme, issue_token(acme, ["read"]))
    first, second = client.get("/api/v1/me"), client.get("/api/v1/me")
    assert first["X-RateLimit-Limit"] == "60"
    assert (first["X-RateLimit-Remaining"], second["X-RateLimit-Remaining"]) == ("59", "58")
    reset = int(first["X-RateLimit-Reset"])
    assert clock.now < reset <= clock.now + 61
    assert second["X-RateLimit-Reset"] == str(reset)


def test_professional_tenant_gets_the_seeds_429_after_60_requests(db, api, acme, clock):
    client = api(acme, issue_token(acme, ["read"]))
    remaining = [int(client.get("/api/v1/me")["X-RateLimit-Remaining"]) for _ in range(60)]
    assert remaining == list(range(59, -1, -1))
    refused = client.get("/api/v1/me")
    assert refused.status_code == 429
    reset = int(refused["X-RateLimit-Reset"])
    retry_after = int(refused["Retry-After"])
    assert 1 <= retry_after == reset - int(clock.now)
    assert headers_of(refused) == {
        "X-RateLimit-Limit": "60",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(reset),
    }
    body = refused.json()
    assert body["message"] == "Too Many Requests."
    assert body["errors"]["rate_limit"] == [
        f"Rate limit of 60 requests per minute for the professional plan exceeded. "
        f"Retry in {retry_after} seconds."
    ]


def test_waiting_retry_after_seconds_is_enough_and_one_less_is_not(db, api, acme, clock, limits):
    limits(professional=(2, None))
    client = api(acme, issue_token(acme, ["read"]))
    client.get("/api/v1/me"), client.get("/api/v1/me")
    refused = client.get("/api/v1/me")
    retry_after = int(refused["Retry-After"])
    clock.advance(retry_after - 1)
    assert client.get("/api/v1/me").status_code == 429
    clock.advance(1)
    admitted = client.get("/api/v1/me")
    assert admitted.status_code == 200
    assert admitted["X-RateLimit-Remaining"] == "1"


def test_minute_refusals_do_not_consume_the_daily_quota(db, api, acme, clock, limits):
    limits(professional=(2, 3))
    client = api(acme, issue_token(acme, ["read"]))
    statuses = [client.get("/api/v1/me").status_code for _ in range(7)]
    assert statuses == [200, 200, 429, 429, 429, 429, 429]
    clock.advance(60)
    assert client.get("/api/v1/me").status_code == 200  # 3rd of the day
    refused = client.get("/api/v1/me")
    assert refused.status_code == 429
    assert refused["X-RateLimit-Limit"] == "3"
    assert (
        "Daily quota of 3 requests for the professional plan exhausted"
        in refused.json()["errors"]["rate_limit"][0]
    )
    assert int(refused["Retry-After"]) == int(refused["X-RateLimit-Reset"]) - int(clock.now)


def test_headers_describe_the_window_closest_to_exhaustion(db, api, acme, clock, limits):
    limits(professional=(10, 12))
    client = api(acme, issue_token(acme, ["read"]))
    for _ in range(9):
        client.get("/api/v1/me")
    clock.advance(60)
    response = client.get("/api/v1/me")  # minute: 1 of 10, day: 10 of 12
    assert (response["X-RateLimit-Limit"], response["X-RateLimit-Remaining"]) == ("12", "2")


def test_ultimate_plan_has_no_daily_window(db, api, initech, clock, limits):
    limits(ultimate=(2, None))
    client = api(initech, issue_token(initech, ["read"]))
    for _minute in range(5):
        assert [client.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]
        clock.advance(60)
    assert client.get("/api/v1/me")["X-RateLimit-Limit"] == "2"


def test_all_tokens_of_a_tenant_share_one_budget(db, api, acme, clock, limits):
    limits(professional=(3, None))
    first = api(acme, issue_token(acme, ["read"], name="one"))
    second = api(acme, issue_token(acme, ["read"], name="two"))
    assert [first.get("/api/v1/me").status_code for _ in range(2)] == [200, 200]
    assert [second.get("/api/v1/me").status_code for _ in range(2)] == [200, 429]


def test_one_tenant_exhausting_its_budget_never_affects_another(
    db, api, acme, globex, clock, limits
):
    limits(professional=(2, None), enterprise=(2, None))
    acme_client = api(acme, issue_token(acme, ["read"]))
    globex_client = api(globex, issue_token(globex, ["read"]))
    assert [acme_client.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]
    assert globex_client.get("/api/v1/me").status_code == 200
    assert globex_client.get("/api/v1/me")["X-RateLimit-Remaining"] == "0"


def test_forbidden_requests_count_and_carry_headers(db, api, acme, clock, limits):
    limits(professional=(2, None))
    client = api(acme, issue_token(acme, ["read"]))
    forbidden_response = client.get("/api/v1/tokens")
    assert forbidden_response.status_code == 403
    assert forbidden_response.json() == forbidden("admin")
    assert forbidden_response["X-RateLimit-Remaining"] == "1"
    client.get("/api/v1/me")
    assert client.get("/api/v1/tokens").status_code == 429


def test_plan_change_applies_from_the_next_request(db, api, acme, clock):
    client = api(acme, issue_token(acme, ["read"]))
    assert client.get("/api/v1/me")["X-RateLimit-Limit"] == "60"
    tenant_change_plan(tenant=acme, plan="enterprise")
    assert client.get("/api/v1/me")["X-RateLimit-Limit"] == "120"


def test_bad_tokens_are_limited_per_ip(db, api, acme, clock, settings):
    settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE = 3
    anonymous = api(acme)
    guessing = api(acme, guessed_token(42))
    for client in (anonymous, guessing, anonymous):
        response = client.get("/api/v1/me")
        assert response.status_code == 401 and response.json() == UNAUTHENTICATED
    with CaptureQueriesContext(connection) as queries:
        refused = guessing.get("/api/v1/me")
    assert refused.status_code == 429
    # With the shared token cache a known-bad token costs no SQL; without it, correctness first:
    # it is looked up (a valid token from this address must still get through).
    lookups = [q for q in queries if "tokens_apitoken" in q["sql"]]
    assert len(lookups) == (0 if settings.WAQTI_TOKEN_CACHE else 1)
    assert refused["X-RateLimit-Limit"] == "3" and refused["X-RateLimit-Remaining"] == "0"
    assert int(refused["Retry-After"]) >= 1
    assert re.match(
        r"Too many requests with a missing or invalid token from this address",
        refused.json()["errors"]["rate_limit"][0],
    )
    assert api(acme, headers={}).get("/api/v1/me", headers={}).status_code == 429
    # Another address is not affected, and neither is a valid token from the blocked one.
    other_ip = api(acme)
    other_ip.client.defaults["REMOTE_ADDR"] = "10.9.8.7"
    assert other_ip.get("/api/v1/me").status_code == 401
    assert api(acme, issue_token(acme, ["read"])).get("/api/v1/me").status_code == 200


def test_client_ip_comes_from_x_forwarded_for_only_behind_a_trusted_proxy(
    db, api, acme, clock, settings
):
    settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE = 1
    spoofing = api(acme)  # REMOTE_ADDR 127.0.0.1
    spoofing.get("/api/v1/me", headers={"X-Forwarded-For": "1.1.1.1"})
    # No trusted proxy: the header is ignored, REMOTE_ADDR is the key and it is exhausted.
    assert spoofing.get("/api/v1/me", headers={"X-Forwarded-For": "2.2.2.2"}).status_code == 429
    settings.WAQTI_TRUSTED_PROXIES = parse_trusted_proxies("127.0.0.0/8")
    forwarded = {"X-Forwarded-For": "9.9.9.9, 3.3.3.3"}  # 3.3.3.3: what the proxy saw
    assert spoofing.get("/api/v1/me", headers=forwarded).status_code == 401
    assert spoofing.get("/api/v1/me", headers={"X-Forwarded-For": "3.3.3.3"}).status_code == 429
    assert spoofing.get("/api/v1/me", headers={"X-Forwarded-For": "4.4.4.4"}).status_code == 401


def test_cache_outage_serves_without_limits_and_logs_once(db, api, acme, settings, caplog):
    token = issue_token(acme, ["read"])
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],  # waqti.redis_cache.BreakerRedisCache
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    settings.WAQTI_TOKEN_CACHE = True
    client = api(acme, token)
    with caplog.at_level(logging.WARNING):
        responses = [client.get("/api/v1/me") for _ in range(3)]
        bad = api(acme, "1|" + "y" * 40).get("/api/v1/me")
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert not responses[0].has_header("X-RateLimit-Limit")
    assert bad.status_code == 401
    # One line for the outage, from the Redis circuit breaker; none per request.
    assert [(r.name, r.levelname) for r in caplog.records] == [("waqti.redis", "ERROR")]
    assert api(acme).get("/health").status_code == 503
