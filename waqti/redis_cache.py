"""Every Redis call of a process goes through one circuit breaker, so a frozen or lost Redis
costs each worker one short timeout per ``RETRY_SECONDS``, not one per call.

A Redis that is stopped (``SIGSTOP``: TCP still connects, nothing answers) or overloaded makes
each call wait for its socket timeout (``REDIS_SOCKET_TIMEOUT_SECONDS`` in ``waqti.settings``:
the ``CACHES`` options, which the counter's client takes too), and one request makes several
Redis calls. So after one call fails, this process skips Redis: every Redis call raises
``RedisSkipped`` at once, which each caller already handles as a Redis outage (the limits are
skipped, tokens and tenants are read from PostgreSQL, ``/health`` says 503; README, "Redis frozen
or lost"). ``RETRY_SECONDS`` after the last failure, one call probes Redis (the others keep
skipping it); its answer closes the breaker. The breaker is
``waqti.circuit_breaker.CircuitBreaker``: one per process, that is per gunicorn worker.

The process's Redis traffic, all of it through ``call``:

* Django's cache (``CACHES["default"]``; the tenant resolver's registry version, the token
  versions' writes, django-ratelimit's password-attempt counters, ``/health``): the backend is
  ``BreakerRedisCache``, Django's ``RedisCache`` with each of its public methods run through
  ``call`` (Django's other cache methods are built on these);
* the rate-limit counter's own redis-py client (``tokens.ratelimit.counter``), whose script
  calls and reads go through ``call``.

What opens the breaker (``UNREACHABLE``): redis-py's ConnectionError (refused, reset, closed,
still loading its data, wrong password) and TimeoutError, and socket errors. An error Redis
answers with (a ``ResponseError``: out of memory under ``noeviction``, a wrong type) is an
answer: Redis is reachable and the caller handles the error as before.

One ERROR line when a worker's breaker opens, one WARNING when it closes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

from waqti.circuit_breaker import CircuitBreaker, CircuitOpen, Transition

logger = logging.getLogger("waqti.redis")

# How long a worker skips Redis after a failure before one call probes it again.
RETRY_SECONDS = 2.0

UNREACHABLE: tuple[type[BaseException], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    OSError,
)

P = ParamSpec("P")
T = TypeVar("T")


class RedisSkipped(redis.ConnectionError):
    """Not attempted: this process's breaker is open (Redis failed less than
    ``RETRY_SECONDS`` ago, or another call is probing it)."""


breaker = CircuitBreaker(retry_after=RETRY_SECONDS)


def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says Redis could not be reached (or was skipped): the breaker's business,
    already logged by it."""
    return isinstance(exc, UNREACHABLE)


def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)``, one Redis operation, through the process's breaker: raises
    ``RedisSkipped`` without calling it while the breaker is open."""
    try:
        probe = breaker.before()
    except CircuitOpen:
        raise RedisSkipped("Redis skipped: it failed moments ago in this process") from None
    try:
        result = fn(*args, **kwargs)
    except UNREACHABLE as exc:
        if breaker.failed(probe) is Transition.OPENED:
            logger.error(
                "Redis unreachable (%s: %s): this worker serves without it (no rate limits, "
                "tokens and tenants read from PostgreSQL) and tries it again every %g s",
                type(exc).__name__,
                exc,
                RETRY_SECONDS,
            )
        raise
    except redis.RedisError:  # Redis answered, with an error
        closed(breaker.succeeded(probe))
        raise
    except BaseException:
        breaker.abandoned(probe)
        raise
    if probe or breaker.is_open:
        closed(breaker.succeeded(probe))
    return result


def closed(transition: Transition) -> None:
    if transition is Transition.CLOSED:
        logger.warning("Redis reachable again: rate limits and the token cache back in use")


class BreakerRedisCache(RedisCache):
    """Django's Redis cache backend, each call through the process's breaker (``call``)."""

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return call(super().add, key, value, timeout, version)

    def get(self, key: str, default: Any = None, version: Any = None) -> Any:
        return call(super().get, key, default, version)

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return call(super().set, key, value, timeout, version)

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return call(super().touch, key, timeout, version)

    def delete(self, key: str, version: Any = None) -> Any:
        return call(super().delete, key, version)

    def get_many(self, keys: Iterable[str], version: Any = None) -> Any:
        return call(super().get_many, keys, version)

    def has_key(self, key: str, version: Any = None) -> Any:
        return call(super().has_key, key, version)

    def incr(self, key: str, delta: int = 1, version: Any = None) -> Any:
        return call(super().incr, key, delta, version)

    def set_many(
        self, data: dict[str, Any], timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> Any:
        return call(super().set_many, data, timeout, version)

    def delete_many(self, keys: Iterable[str], version: Any = None) -> Any:
        return call(super().delete_many, keys, version)

    def clear(self) -> Any:
        return call(super().clear)
