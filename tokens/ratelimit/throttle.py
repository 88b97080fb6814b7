"""The tenant's plan budget: per-minute and per-day windows shared by all its tokens."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from tenancy.plans import plan_limits
from tokens.ratelimit.counter import Window, WindowUsage, count_windows
from tokens.ratelimit.memo import ExhaustedWindow, exhausted
from waqti.api.exceptions import RateLimited

MINUTE = 60
DAY = 86_400
# The counters' key within the tenant: the cache key function adds the tenant's schema.
PLAN_KEY = "tenant"


def plan_windows(plan: str) -> list[Window]:
    """The plan's windows, minute first; a window without a limit is not counted at all."""
    limits = plan_limits(plan)
    return [
        Window(f"waqti.plan.{label}", limit, period)
        for label, limit, period in (
            ("minute", limits.per_minute, MINUTE),
            ("day", limits.per_day, DAY),
        )
        if limit is not None
    ]


def _label(window: Window) -> str:
    return "minute" if window.period == MINUTE else "day"


def plan_refusal(label: str, usage: WindowUsage, plan: str) -> RateLimited:
    """The plan's 429 for a request counted past the ``label`` window's limit."""
    return RateLimited(usage.retry_after, plan_refusal_text(label, usage, plan))


def plan_refusal_text(label: str, usage: WindowUsage, plan: str) -> str:
    """What the plan's 429 says (``errors.rate_limit``), in the active language."""
    wait = usage.retry_after
    if label == "minute":
        text = _(
            "Rate limit of %(limit)s requests per minute for the %(plan)s plan exceeded. "
            "Retry in %(wait)s seconds."
        )
    else:
        text = _(
            "Daily quota of %(limit)s requests for the %(plan)s plan exhausted. "
            "Retry in %(wait)s seconds."
        )
    return text % {"limit": usage.limit, "plan": plan, "wait": wait}


def _remember_spent_window(windows: list[Window], usages: list[WindowUsage], plan: str) -> None:
    """Tell this worker's memo (``tokens.ratelimit.memo``) about the first spent window.

    The next request would be counted into it and refused by it (windows are counted in order),
    so until its reset this worker can refuse locally authenticated tokens without Redis.
    """
    for window, usage in zip(windows, usages, strict=False):
        if usage.count >= usage.limit:
            exhausted.note(
                connection.schema_name,
                PLAN_KEY,
                ExhaustedWindow(
                    limit=usage.limit, reset_at=usage.reset_at, label=_label(window), plan=plan
                ),
            )
            return


class PlanRateThrottle(BaseThrottle):
    """Counts every authenticated request of a tenant, whatever its outcome.

    A window found spent is remembered by this worker until its reset: later requests whose
    token is a fresh local snapshot accepting the secret are refused with the same 429 before
    DRF runs, without Redis (``tokens.early_refusal.ExhaustedWindowMiddleware``). Consequence,
    accepted: during that window a token revoked in another process gets 429 instead of 401
    (refused either way); a revoke in this process gives 401 at once (``tokens.ratelimit.memo``).

    The minute window is counted first; a request it refuses never touches the daily quota.
    The ``X-RateLimit-*`` headers describe the window closest to exhaustion.
    """

    def allow_request(self, request: Request, view: Any) -> bool:
        self.refusal: RateLimited | None = None
        if request.auth is None:
            return True
        tenant = request._request.tenant
        windows = plan_windows(tenant.plan)
        if not windows:
            return True
        # Usually counted already, in the same Redis call that validated the token's snapshot.
        usages = getattr(request.auth, "plan_usages", None)
        if usages is None:
            usages = count_windows(request._request, windows=windows, key=PLAN_KEY)
        if usages is None:  # cache unreachable: serve without limits
            return True
        _remember_spent_window(windows, usages, tenant.plan)
        last = usages[-1]
        if last.exceeded:
            request._request.rate_limit_headers = last.headers()
            self.refusal = plan_refusal(_label(windows[len(usages) - 1]), last, tenant.plan)
            return False
        closest = min(usages, key=lambda usage: usage.remaining)
        request._request.rate_limit_headers = closest.headers()
        return True

    def wait(self) -> float | None:
        return self.refusal.wait if self.refusal is not None else None
