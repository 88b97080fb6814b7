"""The per-IP guard: requests with a missing or bad token, counted per client address and tenant.

Only requests whose token failed are counted (``tokens.authentication`` calls ``count_failure``);
a valid token is never counted here nor refused for what its address did.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from tokens.ratelimit.counter import Window, WindowUsage, count
from tokens.ratelimit.memo import ExhaustedWindow, exhausted
from tokens.ratelimit.refusal import report_usage, too_many_requests
from waqti.api.exceptions import RateLimited
from waqti.client_ip import client_ip

SCOPE = "waqti.auth-failures"
MINUTE = 60


def memo_key(ip: str) -> str:
    """The guard's key in the memo of spent windows (``tokens.ratelimit.memo``)."""
    return f"ip:{ip}"


def count_failure(request: Any) -> WindowUsage | None:
    """Count one request with a missing or bad token against its client address's budget and
    put the guard's ``X-RateLimit-*`` headers on its answer; None when the cache is down."""
    ip = client_ip(request)
    usages = count((Window(SCOPE, settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE, MINUTE),), ip)
    if not usages:
        return None
    usage = usages[0]
    if usage.spent:
        # This worker refuses the address's next known-invalid tokens early until the reset.
        spent = ExhaustedWindow(limit=usage.limit, reset_at=usage.reset_at)
        exhausted.note(connection.schema_name, memo_key(ip), spent)
    report_usage(request, usage)
    return usage


def refusal_text(usage: WindowUsage) -> str:
    """What the guard's 429 says (``errors.rate_limit``), in the active language."""
    return _(
        "Too many requests with a missing or invalid token from this address "
        "(%(limit)s per minute). Retry in %(wait)s seconds."
    ) % {"limit": usage.limit, "wait": usage.retry_after}


def guard_refusal(request: Any, usage: WindowUsage) -> RateLimited:
    """The guard's 429 for a request counted past its address's budget (the DRF path)."""
    return too_many_requests(request, usage, refusal_text(usage))


def spent_guard_window(request: Any, schema: str) -> ExhaustedWindow | None:
    """The guard window this worker knows is spent for the request's address in ``schema``."""
    window = exhausted.get(schema, memo_key(client_ip(request)))
    if window is None or window.limit != settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE:
        return None
    return window
