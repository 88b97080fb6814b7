"""The tenant's plan budget: per-minute and per-day windows shared by all its tokens."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from tenancy.plans import plan_limits
from tokens.ratelimit import Window, WindowUsage, count_windows
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


class PlanRateThrottle(BaseThrottle):
    """Counts every authenticated request of a tenant, whatever its outcome.

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
        last = usages[-1]
        if last.exceeded:
            label = "minute" if windows[len(usages) - 1].period == MINUTE else "day"
            request._request.rate_limit_headers = last.headers()
            self.refusal = self._refusal(label, last, tenant.plan)
            return False
        closest = min(usages, key=lambda usage: usage.remaining)
        request._request.rate_limit_headers = closest.headers()
        return True

    def _refusal(self, label: str, usage: WindowUsage, plan: str) -> RateLimited:
        wait = usage.retry_after
        if label == "minute":
            text = _("Rate limit of %(limit)s requests per minute for the %(plan)s plan exceeded. "
                     "Retry in %(wait)s seconds.")
        else:
            text = _("Daily quota of %(limit)s requests for the %(plan)s plan exhausted. "
                     "Retry in %(wait)s seconds.")
        return RateLimited(wait, text % {"limit": usage.limit, "plan": plan, "wait": wait})

    def wait(self) -> float | None:
        return self.refusal.wait if self.refusal is not None else None
