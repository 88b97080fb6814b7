"""Counting requests in fixed windows, and what the headers should say.

Two limiters use it: the tenant's plan budget (per minute and per day, shared by all its tokens)
and the per-IP guard against requests with a missing or invalid token. Cache keys carry the
tenant's schema through django-tenants' key function, so tenants never share a counter.

The per-IP guard counts with django-ratelimit (``count_request``). The plan budget counts all its
windows with ``count_windows``: on Redis that is one Lua script call (django-ratelimit needs three
round trips per window: SET NX, EXISTS, INCR), on any other cache it is django-ratelimit. Both
use django-ratelimit's window boundaries and cache keys, so they count in the same counters.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import EXPIRATION_FUDGE, _get_window, _make_cache_key, get_usage
from redis.commands.core import Script

logger = logging.getLogger("waqti.ratelimit")


@dataclass(frozen=True)
class WindowUsage:
    """One window's state after counting a request."""

    limit: int
    count: int
    reset_at: int  # Unix seconds when the window's counter starts from zero again
    counted_at: int  # Unix seconds when this request was counted

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def retry_after(self) -> int:
        """Whole seconds from the counting moment until the window resets; at least 1."""
        return max(1, self.reset_at - self.counted_at)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }


class CacheOutage:
    """Logs a cache outage once per incident instead of once per request."""

    def __init__(self) -> None:
        self.active = False

    def failed(self, exc: Exception) -> None:
        if not self.active:
            self.active = True
            logger.error("rate-limit cache unreachable, limits skipped until it recovers: %s", exc)

    def recovered(self) -> None:
        if self.active:
            self.active = False
            logger.warning("rate-limit cache reachable again, limits enforced")


outage = CacheOutage()


def count_request(
    request: HttpRequest, *, group: str, key: str, limit: int, period: int, increment: bool = True
) -> WindowUsage | None:
    """Count (or peek at) ``request`` in the window ``group``/``key``.

    Returns None when the cache is unreachable: callers then let the request through.
    """
    try:
        usage = get_usage(
            request,
            group=group,
            key=lambda _group, _request: key,
            rate=(limit, period),
            increment=increment,
        )
    except Exception as exc:  # redis errors, socket errors: fail open, loudly
        outage.failed(exc)
        return None
    if usage is None:  # RATELIMIT_FAIL_OPEN path: the counter could not be read
        outage.failed(RuntimeError("counter unavailable"))
        return None
    outage.recovered()
    # django-ratelimit's window stays the same through its last second (time_left == 0), so
    # the counter is fresh one second after that.
    now = int(time.time())
    reset_at = now + max(0, usage["time_left"]) + 1
    return WindowUsage(limit=limit, count=usage["count"], reset_at=reset_at, counted_at=now)


# One round trip for the plan budget. KEYS[1] is the tenant's token-version key and ARGV[1] the
# version the caller's token snapshot was read at ("" skips the check); when they differ nothing
# is counted and the reply is nil, so a stale snapshot never spends budget. KEYS[2..] are the
# window counters, narrowest first, with ARGV holding a limit and a TTL per window. Counting stops
# at the first window the request exceeds, so a request refused by the minute window never
# touches the daily quota. A counter gets its TTL on its first increment, as with
# django-ratelimit's SET NX. Atomic, so concurrent requests of all processes are counted exactly.
_COUNT_WINDOWS_LUA = """
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return nil
end
local counts = {}
for i = 2, #KEYS do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then
    redis.call('EXPIRE', KEYS[i], ARGV[2 * i - 1])
  end
  counts[i - 1] = count
  if count > tonumber(ARGV[2 * i - 2]) then
    break
  end
end
return counts
"""


@dataclass(frozen=True)
class Window:
    """A fixed window of the plan budget: ``limit`` requests per ``period`` seconds."""

    group: str
    limit: int
    period: int


@dataclass(frozen=True)
class SharedRedis:
    """The rate-limit cache when it is Redis: its Django backend, a client and the script."""

    backend: RedisCache
    client: Any  # redis.Redis
    count_script: Script


@functools.lru_cache(maxsize=8)
def _client_for(pool: Any) -> tuple[Any, Script]:
    # Django's RedisCache builds a new redis-py client object for every cache call (about a
    # tenth of a cheap request here); one client per connection pool is enough and thread-safe.
    from redis import Redis

    client = Redis(connection_pool=pool)
    return client, Script(client, _COUNT_WINDOWS_LUA)


def shared_redis() -> SharedRedis | None:
    """The rate-limit cache as Redis, or None when it is another backend (e.g. LocMemCache)."""
    backend = caches[settings.RATELIMIT_USE_CACHE]
    if not isinstance(backend, RedisCache):
        return None
    client, script = _client_for(backend._cache._get_connection_pool(write=True))
    return SharedRedis(backend=backend, client=client, count_script=script)


@functools.lru_cache(maxsize=4096)
def _window_key(backend: RedisCache, schema: str, window: Window, key: str, end: int) -> str:
    """django-ratelimit's cache key of a window through the cache's tenant-aware key function.

    Memoized: the same (schema, window) pair repeats for a whole window, and building the key
    (an md5 and the key function) was a few percent of a cheap request. ``schema`` is the
    current schema the key function reads, so it is part of the memo key.
    """
    rate = (window.limit, window.period)
    return backend.make_key(_make_cache_key(window.group, end, rate, key, ALL))


def _count_in_redis(
    redis: SharedRedis, windows: Sequence[Window], key: str, version_key: str, version: bytes
) -> list[WindowUsage] | None:
    """Run the script; None when ``version`` is no longer current. Raises on Redis errors."""
    keys, args, resets = [version_key], [version], []
    now = int(time.time())
    schema = connection.schema_name
    for window in windows:
        end = _get_window(key, window.period)  # last second of the current window
        keys.append(_window_key(redis.backend, schema, window, key, end))
        args += [window.limit, window.period + EXPIRATION_FUDGE]
        resets.append(end + 1)
    counts = redis.count_script(keys=keys, args=args)
    if counts is None:
        return None
    return [
        WindowUsage(limit=window.limit, count=int(count), reset_at=reset, counted_at=now)
        for window, count, reset in zip(windows, counts, resets, strict=False)
    ]


def count_windows(
    request: HttpRequest, *, windows: Sequence[Window], key: str
) -> list[WindowUsage] | None:
    """Count ``request`` in each window in order, stopping at the first one it exceeds.

    Returns the usage of every window counted (the last one is the exceeded one, if any), or
    None when the cache is unreachable: callers then let the request through.
    """
    redis = shared_redis()
    if redis is None:
        usages = []
        for window in windows:
            usage = count_request(
                request, group=window.group, key=key, limit=window.limit, period=window.period
            )
            if usage is None:
                return None
            usages.append(usage)
            if usage.exceeded:
                break
        return usages
    try:
        usages = _count_in_redis(redis, windows, key, version_key="", version=b"")
    except Exception as exc:  # redis errors, socket errors: fail open, loudly
        outage.failed(exc)
        return None
    outage.recovered()
    return usages


def count_windows_at_version(
    redis: SharedRedis, *, windows: Sequence[Window], key: str, version_key: str, version: bytes
) -> list[WindowUsage] | None:
    """Like ``count_windows`` in the same round trip as checking that the raw value at
    ``version_key`` (a full cache key) is still ``version``.

    None when it is not, or when Redis cannot be reached: nothing was counted then, and the
    caller takes its slow path (which counts, or reports the outage, with ``count_windows``).
    """
    try:
        return _count_in_redis(redis, windows, key, version_key=version_key, version=version)
    except Exception:  # the slow path meets the same error and reports it
        return None
