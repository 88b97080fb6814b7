"""The one counter of the API's rate limits: windows, tenants kept apart, one Redis round trip."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django_tenants.utils import tenant_context

from tokens.ratelimit.counter import (
    Window,
    count,
    count_at,
    counter_cache,
    peek,
    peek_at,
    read_raw,
    script_holder,
    window_end,
)

MINUTE = Window("test.minute", 2, 60)
DAY = Window("test.day", 3, 86_400)


def counts(usages) -> list[int]:
    return [usage.count for usage in usages]


@pytest.mark.parametrize("period", [60, 86_400])
def test_a_window_ends_at_a_second_fixed_by_its_key_and_lasts_its_period(period):
    now = 1_900_000_000
    end = window_end("tenant", period, now)
    assert now <= end < now + period
    # Every second up to the end is in the same window; the next one starts a new window.
    assert {window_end("tenant", period, second) for second in range(now, end + 1)} == {end}
    assert window_end("tenant", period, end + 1) == end + period


def test_count_reports_reset_and_retry_after_from_the_window_end(db, clock):
    first, second, third = (count([MINUTE], "k")[0] for _ in range(3))
    assert counts([first, second, third]) == [1, 2, 3]
    end = window_end("k", 60, int(clock.now))
    assert third.reset_at == end + 1
    assert third.retry_after == end + 1 - int(clock.now)
    assert third.exceeded and second.spent and not first.spent
    assert third.headers() == {
        "X-RateLimit-Limit": "2",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(end + 1),
    }
    clock.advance(third.retry_after)
    assert counts(count([MINUTE], "k")) == [1]


def test_a_request_refused_by_the_first_window_is_not_counted_in_the_next(db, clock):
    assert [counts(count([MINUTE, DAY], "k")) for _ in range(4)] == [
        [1, 1],
        [2, 2],
        [3],  # over the minute: the day is not touched
        [4],
    ]
    clock.advance(60)
    assert counts(count([MINUTE, DAY], "k")) == [1, 3]
    assert counts(count([MINUTE, DAY], "k")) == [2, 4]


def test_counters_of_two_tenants_never_meet(db, acme, globex, clock):
    with tenant_context(acme):
        assert [counts(count([MINUTE], "same-key")) for _ in range(3)] == [[1], [2], [3]]
    with tenant_context(globex):
        assert counts(count([MINUTE], "same-key")) == [1]
    with tenant_context(acme):
        assert counts(count([MINUTE], "same-key")) == [4]
    connection.set_schema_to_public()


def test_count_at_checks_the_version_and_counts_in_one_round_trip(db, acme, clock, redis_calls):
    with tenant_context(acme):
        counter_cache().set("test:version", 41, timeout=None)  # stored as its digits
        assert read_raw("test:version") == b"41"
        redis_calls.clear()
        usages = count_at([MINUTE, DAY], "k", version_key="test:version", version=b"41")
        assert counts(usages) == [1, 1] and len(redis_calls) == 1
        # Another version: nothing counted.
        assert count_at([MINUTE, DAY], "k", version_key="test:version", version=b"40") is None
        assert counts(count([MINUTE, DAY], "k")) == [2, 2]
    connection.set_schema_to_public()


OWN = Window("test.own", 2, 60)


def test_peek_reads_the_windows_and_counts_only_its_own_in_one_round_trip(
    db, acme, clock, redis_calls
):
    with tenant_context(acme):
        counter_cache().set("test:version", 41, timeout=None)
        count([MINUTE, DAY], "k")
        redis_calls.clear()
        peeked = peek_at([MINUTE, DAY], "k", OWN, "me", version_key="test:version", version=b"41")
        assert len(redis_calls) == 1
        assert peeked.own.count == 1 and counts(peeked.read) == [1, 1]
        assert peeked.read[0].reset_at == window_end("k", 60, int(clock.now)) + 1
        assert peeked.own.reset_at == window_end("me", 60, int(clock.now)) + 1
        # Another version: nothing counted, not even its own window.
        assert (
            peek_at([MINUTE, DAY], "k", OWN, "me", version_key="test:version", version=b"4") is None
        )
        again = peek([MINUTE, DAY], "k", OWN, "me")
        assert again.own.count == 2 and counts(again.read) == [1, 1]  # still not counted
        assert counts(count([MINUTE, DAY], "k")) == [2, 2]
        assert counts(peek([MINUTE, DAY], "unused", OWN, "other").read) == [0, 0]
    connection.set_schema_to_public()


def test_peek_without_redis_uses_djangos_cache_api(db, settings, clock):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
        }
    }
    assert peek_at([MINUTE], "k", OWN, "me", version_key="v", version=b"1") is None
    count([MINUTE], "k")
    peeked = [peek([MINUTE], "k", OWN, "me") for _ in range(3)]
    assert [p.own.count for p in peeked] == [1, 2, 3] and peeked[2].own.exceeded
    assert [counts(p.read) for p in peeked] == [[1], [1], [1]]


def test_count_at_needs_redis_for_its_atomic_check(db, settings):
    if django_settings.REDIS_URL:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "KEY_FUNCTION": "django_tenants.cache.make_key",
            }
        }
    assert count_at([MINUTE], "k", version_key="v", version=b"1") is None
    assert counts(count([MINUTE], "k")) == [1]  # counted with Django's cache API instead


def test_the_counters_redis_client_has_the_caches_server_and_timeouts(db, settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            **settings.CACHES["default"],
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.75},
        },
    }
    pool = script_holder.get().registered_client.connection_pool
    assert pool.connection_kwargs["socket_timeout"] == 0.75
    assert pool.connection_kwargs["socket_connect_timeout"] == 0.25
    assert f"redis://{pool.connection_kwargs['host']}:{pool.connection_kwargs['port']}" in (
        django_settings.REDIS_URL
    )
