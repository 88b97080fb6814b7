"""One circuit breaker for every Redis call of the process, on a real redis-server that is
really frozen (SIGSTOP): a frozen Redis costs one socket timeout, then calls skip it until the
breaker's clock (moved, never slept) lets one probe through."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.core.cache import cache

from faults.servers import PrivateRedis
from tests.conftest import FakeClock, issue_token
from tokens.ratelimit.counter import Window, count, read_raw
from waqti import redis_cache
from waqti.redis_cache import RETRY_SECONDS, RedisSkipped, breaker

MINUTE = Window("test.minute", 100, 60)


@pytest.fixture(scope="module")
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.close()


@pytest.fixture
def frozen_later(private_redis, settings, monkeypatch) -> Iterator[PrivateRedis]:
    """The process's cache and counter on the private Redis (production's backend and
    timeouts), the breaker on a moved clock; thawed again after the test."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": private_redis.url}}
    settings.WAQTI_TOKEN_CACHE = True
    monkeypatch.setattr(breaker, "clock", FakeClock(1000.0))
    yield private_redis
    private_redis.thaw()


@pytest.fixture
def outcomes(monkeypatch) -> dict[str, int]:
    """How many Redis calls failed (each one a socket timeout) and how many were skipped."""
    seen = {"failed": 0, "skipped": 0}

    def counting(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            try:
                return method(*args)
            finally:
                if name == "failed":
                    seen["failed"] += 1

        return wrapper

    def before() -> bool:
        try:
            return real_before()
        except Exception:
            seen["skipped"] += 1
            raise

    real_before = breaker.before
    monkeypatch.setattr(breaker, "failed", counting("failed", breaker.failed))
    monkeypatch.setattr(breaker, "before", before)
    return seen


def test_a_frozen_redis_costs_one_timeout_then_every_redis_use_skips_it_until_a_probe(
    db, api, acme, frozen_later, outcomes, caplog
):
    token = issue_token(acme, ["read"])
    client = api(acme, token)
    assert client.get("/api/v1/me").has_header("X-RateLimit-Limit")  # counted in Redis
    frozen_later.freeze()
    with caplog.at_level(logging.WARNING, logger="waqti.redis"):
        during = [client.get("/api/v1/me") for _ in range(10)]
        health = api("localhost").get("/health")
        # The lookup's count, its version read, the throttle's count and the host's registry
        # version each went to Redis before: now the first one timed out, the rest skipped it.
        assert [r.status_code for r in during] == [200] * 10
        assert not any(r.has_header("X-RateLimit-Limit") for r in during)  # as documented
        assert health.status_code == 503
        assert outcomes["failed"] == 1
        assert outcomes["skipped"] >= 20

        breaker.clock.advance(RETRY_SECONDS)
        assert client.get("/api/v1/me").status_code == 200
        assert outcomes["failed"] == 2  # one probe, one more timeout; then skipping again
        assert client.get("/api/v1/me").status_code == 200
        assert outcomes["failed"] == 2

        frozen_later.thaw()
        breaker.clock.advance(RETRY_SECONDS)
        after = client.get("/api/v1/me")
    assert after.status_code == 200
    assert after.has_header("X-RateLimit-Limit")  # the probe answered: counting again
    assert not breaker.is_open
    assert [
        (r.levelname, r.getMessage()[:22]) for r in caplog.records if r.name == "waqti.redis"
    ] == [
        ("ERROR", "Redis unreachable (Tim"),
        ("WARNING", "Redis reachable again:"),
    ]


def test_the_counter_and_the_cache_share_one_breaker(db, frozen_later, outcomes):
    frozen_later.freeze()
    with pytest.raises(redis.TimeoutError):
        cache.get("anything")  # Django's cache meets the frozen Redis: one timeout
    assert count([MINUTE], "k") is None  # the counter's own client skips it, unlimited
    with pytest.raises(RedisSkipped):
        read_raw("tokens:version")
    with pytest.raises(RedisSkipped):
        cache.set("anything", 1)
    assert outcomes == {"failed": 1, "skipped": 3}


def test_an_error_redis_answers_with_does_not_open_the_breaker(db):
    cache.set("not-a-number", "text")
    with pytest.raises(redis.ResponseError):
        cache.incr("not-a-number")
    assert not breaker.is_open


def test_a_call_that_fails_for_another_reason_gives_the_probe_back(db, monkeypatch):
    monkeypatch.setattr(breaker, "clock", FakeClock(1000.0))
    with pytest.raises(redis.ConnectionError):
        redis_cache.call(_refused)
    breaker.clock.advance(RETRY_SECONDS)
    with pytest.raises(ZeroDivisionError):
        redis_cache.call(lambda: 1 / 0)  # the probe, ended by a bug of the caller
    assert breaker.is_open
    assert redis_cache.call(lambda: "answered") == "answered"  # the next call probes
    assert not breaker.is_open


def _refused() -> None:
    raise redis.ConnectionError("Connection refused.")
