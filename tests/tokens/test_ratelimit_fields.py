"""The IETF structured rate-limit headers (RateLimit-Policy, RateLimit) on every authenticated
answer, parsed with a structured-field parser (http-sfv), not compared as strings."""

from __future__ import annotations

import http_sfv
import pytest

from tests.helpers import issue_token
from tokens.ratelimit.counter import WindowUsage
from tokens.ratelimit.fields import policy_field, ratelimit_field, structured_headers
from tokens.ratelimit.memo import exhausted


def parsed(value: str) -> dict[str, dict[str, int]]:
    """A Structured Field List of named policies, as {name: {parameter: value}}."""
    field = http_sfv.List()
    field.parse(value.encode())
    names = [item.value for item in field]
    assert all(isinstance(name, str) for name in names)
    assert len(set(names)) == len(names)
    return {item.value: dict(item.params) for item in field}


def policy(response) -> dict[str, dict[str, int]]:
    return parsed(response["RateLimit-Policy"])


def current(response) -> dict[str, dict[str, int]]:
    return parsed(response["RateLimit"])


@pytest.fixture
def limits(settings):
    def set_limits(**plans):
        settings.WAQTI_RATE_LIMITS = {**settings.WAQTI_RATE_LIMITS, **plans}

    return set_limits


def test_fields_are_valid_structured_lists():
    usage = WindowUsage(limit=60, count=12, reset_at=1_000_031, counted_at=1_000_000)
    assert parsed(policy_field((("minute", 60, 60), ("day", 10_000, 86_400)))) == {
        "minute": {"q": 60, "w": 60},
        "day": {"q": 10_000, "w": 86_400},
    }
    assert parsed(ratelimit_field([("minute", usage)])) == {"minute": {"r": 48, "t": 31}}
    assert structured_headers((), [("minute", usage)]) == {}
    assert structured_headers((("minute", 60, 60),), []) == {
        "RateLimit-Policy": '"minute";q=60;w=60'
    }


def test_a_success_describes_both_plan_windows(db, api, acme, clock):
    client = api(acme, issue_token(acme, ["read"]))
    client.get("/api/v1/me")
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert policy(response) == {"minute": {"q": 60, "w": 60}, "day": {"q": 10_000, "w": 86_400}}
    reset = int(response["X-RateLimit-Reset"])
    now = int(clock.now)
    windows = current(response)
    assert windows["minute"] == {"r": 58, "t": reset - now}
    assert windows["day"]["r"] == 9_998 and 1 <= windows["day"]["t"] <= 86_400
    # X-RateLimit-* are unchanged: the window closest to exhaustion
    assert response["X-RateLimit-Remaining"] == "58"


def test_a_403_after_authentication_carries_them(db, api, acme, clock):
    client = api(acme, issue_token(acme, ["read"]))
    response = client.get("/api/v1/tokens")
    assert response.status_code == 403
    assert set(policy(response)) == {"minute", "day"}
    assert current(response)["minute"]["r"] == 59


def test_the_ultimate_plans_unlimited_day_is_absent(db, api, initech, clock):
    client = api(initech, issue_token(initech, ["read"]))
    response = client.get("/api/v1/me")
    assert policy(response) == {"minute": {"q": 300, "w": 60}}
    assert set(current(response)) == {"minute"}


def test_a_plan_429_names_only_the_refusing_window(db, api, acme, clock, limits):
    limits(professional=(1, 100))
    client = api(acme, issue_token(acme, ["read"]))
    assert client.get("/api/v1/me").status_code == 200
    exhausted.clear()  # the DRF path's 429
    refused = client.get("/api/v1/me")
    assert refused.status_code == 429
    assert policy(refused) == {"minute": {"q": 1, "w": 60}, "day": {"q": 100, "w": 86_400}}
    assert current(refused) == {"minute": {"r": 0, "t": int(refused["Retry-After"])}}
    early = client.get("/api/v1/me")  # from the memo of spent windows
    assert early.status_code == 429
    assert policy(early) == policy(refused)
    assert current(early) == {"minute": {"r": 0, "t": int(early["Retry-After"])}}


def test_a_daily_429_names_the_day(db, api, acme, clock, limits):
    limits(professional=(10, 2))
    client = api(acme, issue_token(acme, ["read"]))
    assert [client.get("/api/v1/me").status_code for _ in range(2)] == [200, 200]
    exhausted.clear()
    refused = client.get("/api/v1/me")
    assert refused.status_code == 429
    assert current(refused) == {"day": {"r": 0, "t": int(refused["Retry-After"])}}
