"""Counting requests in fixed windows with django-ratelimit, and what the headers should say.

Two limiters use it: the tenant's plan budget (per minute and per day, shared by all its tokens)
and the per-IP guard against requests with a missing or invalid token. Cache keys carry the
tenant's schema through django-tenants' key function, so tenants never share a counter.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.http import HttpRequest
from django_ratelimit.core import get_usage

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
            request, group=group, key=lambda _group, _request: key, rate=(limit, period),
            increment=increment,
        )
    except Exception as exc:  # noqa: BLE001 - redis errors, socket errors: fail open, loudly
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
