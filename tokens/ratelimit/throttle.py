"""The limits step of a request: the tenant's plan budget, as a DRF throttle."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from tokens.ratelimit.counter import count
from tokens.ratelimit.plans import (
    PLAN_KEY,
    plan_budget,
    plan_refusal,
    remember_spent_window,
    usage_headers,
    window_label,
)
from tokens.ratelimit.refusal import report_usage
from waqti.api.exceptions import RateLimited


class PlanRateThrottle(BaseThrottle):
    """Counts every authenticated request of a tenant, whatever its outcome (``ApiViewMixin``
    runs it before the ability check, so 403s count too).

    The budget's windows are usually counted already, in the Redis call that confirmed the
    token (``tokens.lookup``); otherwise they are counted here. The minute window is counted
    first; a request it refuses never touches the daily quota. ``X-RateLimit-*`` describe the
    window closest to exhaustion; ``RateLimit-Policy`` and ``RateLimit`` every window
    (``tokens.ratelimit.fields``).

    A window found spent is remembered by this worker until its reset, and the early refusal
    (``tokens.early_refusal``) refuses the tenant's next requests with the same 429 without
    Redis. Consequence, accepted: during that window a token revoked in another process gets 429
    instead of 401 (refused either way); a revoke in this process gives 401 at once.
    """

    def allow_request(self, request: Request, view: Any) -> bool:
        self.refusal: RateLimited | None = None
        if request.auth is None:
            return True
        budget = plan_budget(request)
        if not budget.windows:
            return True
        if budget.usages is None:
            budget.usages = count(budget.windows, PLAN_KEY)
        usages = budget.usages
        if usages is None:  # cache unreachable: serve without limits (the policy still holds)
            request.rate_limit_headers = usage_headers(budget.windows, None)
            return True
        remember_spent_window(budget, usages)
        last = usages[-1]
        if last.exceeded:
            label = window_label(budget.windows[len(usages) - 1])
            self.refusal = plan_refusal(request, label, last, budget)
            return False
        report_usage(request, min(usages, key=lambda usage: usage.remaining))
        request.rate_limit_headers.update(usage_headers(budget.windows, usages))
        return True

    def wait(self) -> float | None:
        return self.refusal.wait if self.refusal is not None else None
