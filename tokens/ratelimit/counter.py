"""Fixed-window request counters in the shared cache: the one counter of every API rate limit.

Two limiters count here: the tenant's plan budget (per minute and per day, shared by all its
tokens; ``tokens.ratelimit.plans``) and the per-IP guard against requests with a missing or bad
token (``tokens.ratelimit.guard``).

Why not django-ratelimit, which ``waqti.password_attempts`` keeps using through its public
``get_usage``: its public API counts one window per call, in two cache round trips (an ``add``,
then an ``incr``), and cannot make a count depend on another key. The plan budget needs both of
its windows AND the token-version check of ``tokens.lookup`` in ONE Redis round trip (that one
round trip is the whole cost of a cached ``GET /api/v1/me``), and django-ratelimit's window and
key helpers are private. So the window arithmetic lives here, and only here:

* A window of ``period`` seconds for ``key`` ends at a second fixed by the key (a CRC32 offset
  within the period, so not every counter in the system resets at :00; the rule
  django-ratelimit uses too) and the next one starts the second after. ``reset_at`` is that
  second, which ``X-RateLimit-Reset`` and ``Retry-After`` report, so waiting ``Retry-After``
  seconds is always enough and one second less never is.
* A counter's cache key names the limiter's scope, the period, the window's end and the key, so
  every window starts from zero, and goes through the cache's key function
  (``django_tenants.cache.make_key`` puts the current tenant's schema in): tenants never share
  a counter. A counter expires a little after its window ends.

On Redis: one call of a Lua script, which also checks a version key when asked (``count_at``;
``read_raw`` reads such a key as the script sees it). The redis-py client is this module's own,
built from the cache's ``LOCATION`` and ``OPTIONS`` (the same server and timeouts as Django's
cache), once per process and configuration: Django's RedisCache builds a new redis-py client
object for every call, which costs more than the round trip itself. Its calls go through the
process's Redis circuit breaker (``waqti.redis_cache.call``), as the cache's do. On any other
cache (the process-local cache without ``REDIS_URL``): Django's public ``add`` and ``incr``, one
window after the other, atomic within the process.

Redis unreachable (or skipped by the breaker): callers get None and serve without limits; the
breaker logs the outage once per process. Any other failure of the counter (an error Redis
answers with) is logged once per incident here (``CacheOutage``).
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
from django.utils.module_loading import import_string
from redis.commands.core import Script

from waqti import redis_cache

logger = logging.getLogger("waqti.ratelimit")

# A counter's expiry is set at its first count, somewhere in its window; this margin keeps it
# alive until the window has ended on every server's clock.
EXPIRY_MARGIN_SECONDS = 5

# KEYS[1] is a version key and ARGV[1] the value it must hold ("" skips the check); when it
# holds another, nothing is counted and the reply is nil. KEYS[2..] are the counters, narrowest
# window first, with ARGV holding a limit and an expiry per counter. Counting stops at the first
# window the request exceeds, so a request refused by the minute never touches the day. Atomic,
# so the requests of every process are counted exactly.
COUNT_SCRIPT = """
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

# The read-only variant, for a request that must not count against the windows it reports
# (``GET /api/v1/rate-limit``): the same version check, then INCR of KEYS[2] (the request's own
# window; ARGV[2] its expiry) and a GET of each of KEYS[3..] (0 for an unset counter). Replies
# the own count first.
PEEK_SCRIPT = """
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return nil
end
local own = redis.call('INCR', KEYS[2])
if own == 1 then
  redis.call('EXPIRE', KEYS[2], ARGV[2])
end
local counts = {own}
for i = 3, #KEYS do
  counts[i - 1] = tonumber(redis.call('GET', KEYS[i]) or '0')
end
return counts
"""


@dataclass(frozen=True, slots=True)
class Window:
    """``limit`` requests per ``period`` seconds, counted under ``scope`` (the limiter's name)."""

    scope: str
    limit: int
    period: int


@dataclass(frozen=True, slots=True)
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
    def spent(self) -> bool:
        """The next request in this window would exceed it."""
        return self.count >= self.limit

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


@dataclass(frozen=True, slots=True)
class Peek:
    """A request counted in its own window, and the windows it read without counting."""

    own: WindowUsage
    read: list[WindowUsage]


def window_end(key: str, period: int, now: int) -> int:
    """The last second of ``key``'s ``period``-second window that holds the second ``now``."""
    end = now - now % period + zlib.crc32(key.encode()) % period
    return end if end >= now else end + period


def counter_key(window: Window, key: str, end: int) -> str:
    """The counter's name within the tenant (the cache's key function adds the tenant)."""
    return f"waqti.rl:{window.scope}:{window.period}:{end}:{key}"


def counter_cache() -> BaseCache:
    """The cache that holds the counters, and the values a count may be checked against."""
    return caches[DEFAULT_CACHE_ALIAS]


class CacheOutage:
    """Logs a counter failure once per incident instead of once per request (an unreachable
    Redis is logged by the breaker, ``waqti.redis_cache``)."""

    def __init__(self) -> None:
        self.active = False

    def failed(self, exc: Exception) -> None:
        if not self.active:
            self.active = True
            logger.error("rate-limit counter failed, limits skipped until it works: %s", exc)

    def recovered(self) -> None:
        if self.active:
            self.active = False
            logger.warning("rate-limit counter works again, limits enforced")


outage = CacheOutage()


def _redis_script(config: dict[str, Any]) -> Script | None:
    """The count script on a client of the Redis server ``config`` (a ``CACHES`` entry) names,
    with its ``OPTIONS`` as Django's RedisCache passes them; None for another backend."""
    backend = config["BACKEND"]
    if not issubclass(import_string(backend) if isinstance(backend, str) else backend, RedisCache):
        return None
    location = config["LOCATION"]
    servers = location.split(",") if isinstance(location, str) else list(location)
    options = dict(config.get("OPTIONS", {}))
    options.pop("serializer", None)  # Django's own; counters are plain integers
    pool_class = options.pop("pool_class", redis.ConnectionPool)
    if isinstance(pool_class, str):
        pool_class = import_string(pool_class)
    if isinstance(options.get("parser_class"), str):
        options["parser_class"] = import_string(options["parser_class"])
    # Writes go to the first server, as with Django's RedisCache.
    client = redis.Redis(connection_pool=pool_class.from_url(servers[0].strip(), **options))
    return client.register_script(COUNT_SCRIPT)


class ScriptHolder:
    """This process's count script (and its read-only variant on the same client), rebuilt
    when ``settings.CACHES`` is replaced (tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._caches: object = None
        self._script: Script | None = None
        self._peek: Script | None = None

    def get(self) -> Script | None:
        configured = settings.CACHES
        if configured is not self._caches:
            with self._lock:
                if configured is not self._caches:
                    script = _redis_script(configured[DEFAULT_CACHE_ALIAS])
                    self._script = script
                    self._peek = (
                        None
                        if script is None
                        else script.registered_client.register_script(PEEK_SCRIPT)
                    )
                    self._caches = configured
        return self._script

    def get_peek(self) -> Script | None:
        """The read-only script (``PEEK_SCRIPT``) on the count script's client."""
        self.get()
        return self._peek


script_holder = ScriptHolder()


def _count_in_redis(
    script: Script, windows: Sequence[Window], key: str, version_key: str, version: bytes
) -> list[WindowUsage] | None:
    """Run the script; None when ``version_key`` no longer holds ``version``. Raises on errors."""
    cache = counter_cache()
    now = int(time.time())
    keys = [cache.make_key(version_key) if version_key else ""]
    args: list[int | bytes] = [version]
    resets = []
    for window in windows:
        end = window_end(key, window.period, now)
        keys.append(cache.make_key(counter_key(window, key, end)))
        args += [window.limit, window.period + EXPIRY_MARGIN_SECONDS]
        resets.append(end + 1)
    counts = redis_cache.call(script, keys=keys, args=args)
    if counts is None:
        return None
    return [
        WindowUsage(limit=window.limit, count=int(count), reset_at=reset, counted_at=now)
        for window, count, reset in zip(windows, counts, resets, strict=False)
    ]


def _count_in_cache(windows: Sequence[Window], key: str) -> list[WindowUsage]:
    """The same counting with Django's cache API (``add``, then ``incr``), window by window."""
    cache = counter_cache()
    now = int(time.time())
    usages = []
    for window in windows:
        end = window_end(key, window.period, now)
        name = counter_key(window, key, end)
        timeout = window.period + EXPIRY_MARGIN_SECONDS
        if cache.add(name, 1, timeout=timeout):
            count = 1
        else:
            try:
                count = cache.incr(name)
            except ValueError:  # expired between the two calls: this is the window's first
                cache.add(name, 1, timeout=timeout)
                count = 1
        usage = WindowUsage(limit=window.limit, count=count, reset_at=end + 1, counted_at=now)
        usages.append(usage)
        if usage.exceeded:
            break
    return usages


def count(windows: Sequence[Window], key: str) -> list[WindowUsage] | None:
    """Count one request for ``key`` in each of ``windows`` in order, stopping at the first one
    it exceeds; returns the usage of every window counted (the exceeded one last).

    None when the cache is unreachable: callers then let the request through.
    """

    def counted() -> list[WindowUsage]:
        script = script_holder.get()
        if script is None:
            return _count_in_cache(windows, key)
        return _count_in_redis(script, windows, key, version_key="", version=b"")

    return _fail_open(counted)


Result = TypeVar("Result")


def _fail_open(call: Callable[[], Result]) -> Result | None:
    """``call()``, or None when the cache fails (redis errors, socket errors): the callers then
    let the request through. The failure is reported once per outage (``outage``), unless Redis
    was unreachable or skipped: the circuit breaker logs those itself."""
    try:
        result = call()
    except Exception as exc:
        if not redis_cache.unreachable(exc):
            outage.failed(exc)
        return None
    outage.recovered()
    return result


def _if_version_holds(
    script_of: Callable[[], Script | None], call: Callable[[Script], Result]
) -> Result | None:
    """``call(script)`` (a script that checks a token version), or None when the cache is not
    Redis or fails: the caller then takes its slow path, which meets the same error and reports
    it."""
    try:
        script = script_of()
        return None if script is None else call(script)
    except Exception:
        return None


def read_raw(key: str) -> bytes | None:
    """The value of ``key`` (a key of ``counter_cache()``, before its key function) as the count
    script compares it, or None when unset. Raises when the cache is unreachable.

    On Redis the stored bytes (Django's cache stores an integer as its digits); on another cache
    the value's text.
    """
    script = script_holder.get()
    cache = counter_cache()
    if script is None:
        value = cache.get(key)
        return None if value is None else str(value).encode()
    return redis_cache.call(script.registered_client.get, cache.make_key(key))


def count_at(
    windows: Sequence[Window], key: str, *, version_key: str, version: bytes
) -> list[WindowUsage] | None:
    """``count``, in the same Redis round trip as checking that the cache key ``version_key``
    (a key of ``counter_cache()``, before its key function) holds ``version`` (``read_raw``).

    None, with nothing counted, when it holds another value, when the cache is not Redis (no
    atomic check is possible there) or when Redis fails: the caller then takes its slow path,
    which counts with ``count`` (and so reports an outage).
    """
    return _if_version_holds(
        script_holder.get,
        lambda script: _count_in_redis(
            script, windows, key, version_key=version_key, version=version
        ),
    )


def _peek_in_redis(
    script: Script,
    windows: Sequence[Window],
    key: str,
    own: Window,
    own_key: str,
    version_key: str,
    version: bytes,
) -> Peek | None:
    """Run ``PEEK_SCRIPT``; None when ``version_key`` no longer holds ``version``."""
    cache = counter_cache()
    now = int(time.time())
    own_end = window_end(own_key, own.period, now)
    keys = [
        cache.make_key(version_key) if version_key else "",
        cache.make_key(counter_key(own, own_key, own_end)),
    ]
    args: list[int | bytes] = [version, own.period + EXPIRY_MARGIN_SECONDS]
    resets = []
    for window in windows:
        end = window_end(key, window.period, now)
        keys.append(cache.make_key(counter_key(window, key, end)))
        resets.append(end + 1)
    counts = redis_cache.call(script, keys=keys, args=args)
    if counts is None:
        return None
    own_usage = WindowUsage(
        limit=own.limit, count=int(counts[0]), reset_at=own_end + 1, counted_at=now
    )
    read = [
        WindowUsage(limit=window.limit, count=int(count), reset_at=reset, counted_at=now)
        for window, count, reset in zip(windows, counts[1:], resets, strict=True)
    ]
    return Peek(own=own_usage, read=read)


def _peek_in_cache(windows: Sequence[Window], key: str, own: Window, own_key: str) -> Peek:
    """The same with Django's cache API: ``own`` counted as ``_count_in_cache`` does, the
    windows read with ``get``."""
    cache = counter_cache()
    own_usage = _count_in_cache((own,), own_key)[0]
    now = own_usage.counted_at
    read = []
    for window in windows:
        end = window_end(key, window.period, now)
        counted = cache.get(counter_key(window, key, end), 0)
        read.append(
            WindowUsage(limit=window.limit, count=counted, reset_at=end + 1, counted_at=now)
        )
    return Peek(own=own_usage, read=read)


def peek(windows: Sequence[Window], key: str, own: Window, own_key: str) -> Peek | None:
    """Count one request for ``own_key`` in ``own`` and read (without counting) ``windows``
    for ``key``, in one Redis call. None when the cache is unreachable (as ``count``)."""

    def peeked() -> Peek:
        script = script_holder.get_peek()
        if script is None:
            return _peek_in_cache(windows, key, own, own_key)
        return _peek_in_redis(script, windows, key, own, own_key, "", b"")

    return _fail_open(peeked)


def peek_at(
    windows: Sequence[Window],
    key: str,
    own: Window,
    own_key: str,
    *,
    version_key: str,
    version: bytes,
) -> Peek | None:
    """``peek`` in the same Redis round trip as the version check of ``count_at`` (None, with
    nothing counted, as there)."""
    return _if_version_holds(
        script_holder.get_peek,
        lambda script: _peek_in_redis(script, windows, key, own, own_key, version_key, version),
    )
