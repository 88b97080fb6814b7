"""GET /api/v1/rate-limit: the plan's windows as they stand, not counted against them, limited
by a window of its own; one Redis call and no SQL for a cached token."""

from __future__ import annotations

import http_sfv
import pytest

from tests.helpers import UNAUTHENTICATED, issue_token
from tokens.ratelimit.memo import exhausted

PATH = "/api/v1/rate-limit"


def parsed(value: str) -> dict[str, dict[str, int]]:
    field = http_sfv.List()
    field.parse(value.encode())
    return {item.value: dict(item.params) for item in field}


@pytest.fixture
def limits(settings):
    def set_limits(**plans):
        settings.WAQTI_RATE_LIMITS = {**settings.WAQTI_RATE_LIMITS, **plans}

    return set_limits


def test_it_reports_both_windows_as_me_sees_them(db, api, acme, clock):
    client = api(acme, issue_token(acme, ["read"]))  # any ability will do
    for _ in range(3):
        me = client.get("/api/v1/me")
    response = client.get(PATH)
    assert response.status_code == 200
    minute_reset = int(me["X-RateLimit-Reset"])
    body = response.json()
    day = body["data"]["windows"][1]
    assert body == {
        "data": {
            "plan": "professional",
            "windows": [
                {"name": "minute", "limit": 60, "remaining": 57, "reset": minute_reset},
                {"name": "day", "limit": 10_000, "remaining": 9_997, "reset": day["reset"]},
            ],
        }
    }
    assert clock.now < day["reset"] <= clock.now + 86_401
    assert parsed(me["RateLimit"])["day"]["t"] == day["reset"] - int(clock.now)


def test_it_is_not_counted_against_the_plan(db, api, acme, clock):
    client = api(acme, issue_token(acme, ["read"]))
    assert client.get("/api/v1/me")["X-RateLimit-Remaining"] == "59"
    for _ in range(5):
        windows = client.get(PATH).json()["data"]["windows"]
        assert [w["remaining"] for w in windows] == [59, 9_999]
    assert client.get("/api/v1/me")["X-RateLimit-Remaining"] == "58"


def test_its_own_headers_describe_its_own_limit(db, api, acme, clock):
    client = api(acme, issue_token(acme, ["read"]))
    client.get("/api/v1/me")
    first, second = client.get(PATH), client.get(PATH)
    assert (first["X-RateLimit-Limit"], first["X-RateLimit-Remaining"]) == ("60", "59")
    assert second["X-RateLimit-Remaining"] == "58"
    assert parsed(second["RateLimit-Policy"]) == {
        "minute": {"q": 60, "w": 60},
        "day": {"q": 10_000, "w": 86_400},
        "rate-limit": {"q": 60, "w": 60},
    }
    current = parsed(second["RateLimit"])
    assert current["minute"]["r"] == 59 and current["day"]["r"] == 9_999
    assert current["rate-limit"] == {
        "r": 58,
        "t": int(second["X-RateLimit-Reset"]) - int(clock.now),
    }


def test_the_61st_call_in_a_minute_gets_the_seeds_429_shape(db, api, acme, clock):
    client = api(acme, issue_token(acme, ["read"]))
    statuses = [client.get(PATH).status_code for _ in range(60)]
    assert statuses == [200] * 60
    refused = client.get(PATH)
    assert refused.status_code == 429
    reset = int(refused["X-RateLimit-Reset"])
    retry_after = int(refused["Retry-After"])
    assert 1 <= retry_after == reset - int(clock.now) <= 60
    assert (refused["X-RateLimit-Limit"], refused["X-RateLimit-Remaining"]) == ("60", "0")
    assert refused.json() == {
        "message": "Too Many Requests.",
        "errors": {
            "rate_limit": [
                "Too many rate-limit status requests for this token (60 per minute). "
                f"Retry in {retry_after} seconds."
            ]
        },
    }
    assert parsed(refused["RateLimit"]) == {"rate-limit": {"r": 0, "t": retry_after}}
    # the plan is untouched, and the window resets
    assert client.get("/api/v1/me")["X-RateLimit-Remaining"] == "59"
    clock.advance(retry_after)
    assert client.get(PATH).status_code == 200


def test_its_limit_is_per_token(db, api, acme, clock):
    one = api(acme, issue_token(acme, ["read"]))
    other = api(acme, issue_token(acme, ["read"], name="Other"))
    for _ in range(61):
        one.get(PATH)
    assert one.get(PATH).status_code == 429
    assert other.get(PATH).status_code == 200


def test_it_answers_while_the_plan_is_spent(db, api, acme, clock, limits):
    limits(professional=(2, 100))
    client = api(acme, issue_token(acme, ["read"]))
    assert [client.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]
    assert exhausted  # the early refusal would refuse the plan's next requests
    response = client.get(PATH)
    assert response.status_code == 200
    minute, day = response.json()["data"]["windows"]
    assert (minute["limit"], minute["remaining"]) == (2, 0)
    assert (day["limit"], day["remaining"]) == (100, 98)  # the refused request never counted


def test_the_ultimate_plan_has_no_day_window(db, api, initech, clock):
    client = api(initech, issue_token(initech, ["read"]))
    body = client.get(PATH).json()
    assert body["data"]["plan"] == "ultimate"
    assert [w["name"] for w in body["data"]["windows"]] == ["minute"]


def test_a_bad_token_gets_the_seeds_401(db, api, acme, clock):
    for client in (api(acme), api(acme, "1|" + "x" * 40)):
        response = client.get(PATH)
        assert response.status_code == 401
        assert response.json() == UNAUTHENTICATED


def test_steady_state_is_one_redis_call_and_no_sql(
    db, api, acme, clock, redis_calls, django_assert_num_queries
):
    client = api(acme, issue_token(acme, ["read"]))
    client.get(PATH)  # the token is cached in this worker from now on
    client.get(PATH)
    redis_calls.clear()
    with django_assert_num_queries(0):
        response = client.get(PATH)
    assert response.status_code == 200
    assert len(redis_calls) == 1
    with django_assert_num_queries(0):
        client.get("/api/v1/me")  # as cheap as /me


def test_its_429_speaks_arabic_too(db, api, acme, clock):
    client = api(acme, issue_token(acme, ["read"]), **{"Accept-Language": "ar"})
    for _ in range(60):
        client.get(PATH)
    refused = client.get(PATH)
    assert refused.status_code == 429 and refused["Content-Language"] == "ar"
    wait = refused["Retry-After"]
    assert refused.json()["errors"]["rate_limit"] == [
        "تجاوزت طلبات الاستعلام عن حدود الاستخدام بهذا الرمز الحدَّ المسموح به "
        f"(60 في الدقيقة). أعد المحاولة بعد {wait} ثانية."
    ]
