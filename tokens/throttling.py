"""The tenant's plan budget: per-minute and per-day windows shared by all its tokens."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from tenancy.plans import plan_limits
from tokens.ratelimit import WindowUsage, count_request
from waqti.api.exceptions import RateLimited

MINUTE = 60
DAY = 86_400


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
        limits = plan_limits(tenant.plan)
        windows: list[tuple[str, WindowUsage]] = []
        for label, limit, period in (("minute", limits.per_minute, MINUTE), ("day", limits.per_day, DAY)):
            if limit is None:
                continue
            usage = count_request(
                request._request, group=f"waqti.plan.{label}", key="tenant", limit=limit, period=period
            )
            if usage is None:  # cache unreachable: serve without limits
                return True
            windows.append((label, usage))
            if usage.exceeded:
                request._request.rate_limit_headers = usage.headers()
                self.refusal = self._refusal(label, usage, tenant.plan)
                return False
        if windows:
            _, closest = min(windows, key=lambda item: item[1].remaining)
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
