"""``GET /api/v1/rate-limit``'s own budget: reading the plan's windows costs nothing against them.

The endpoint is not counted against the tenant's plan (as GitHub's ``/rate_limit``): its one
Redis call (``tokens.ratelimit.counter.PEEK_SCRIPT``, made by ``tokens.lookup`` with the token
version check for a cached token, else by ``QuotaThrottle``) reads the plan's counters and
counts the request in a window of its own per token (``quota_window``), so polling it cannot
flood Redis. Over that window it answers the seed's 429 shape: ``Retry-After`` and
``X-RateLimit-*`` describing ITS window. ``RateLimit-Policy`` and ``RateLimit`` describe the
plan's windows, as read, plus this one under the name ``"rate-limit"``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from tokens.ratelimit.counter import Window, WindowUsage, peek
from tokens.ratelimit.fields import structured_headers
from tokens.ratelimit.plans import PLAN_KEY, PlanBudget, plan_policies, plan_windows, window_label
from tokens.ratelimit.refusal import report_usage, too_many_requests
from waqti.api.exceptions import RateLimited

NAME = "rate-limit"
SCOPE = "waqti.rate-limit-endpoint"
MINUTE = 60


def quota_window() -> Window:
    """The endpoint's own window: ``WAQTI_RATE_LIMIT_ENDPOINT_PER_MINUTE`` per token (60)."""
    return Window(SCOPE, settings.WAQTI_RATE_LIMIT_ENDPOINT_PER_MINUTE, MINUTE)


def quota_key(token_id: int) -> str:
    """The endpoint's counter key within the tenant: one window per token."""
    return f"token:{token_id}"


def quota_budget(request: Any, token_id: int) -> PlanBudget:
    """The request's budget for the endpoint: the plan's windows to read, its own to count."""
    plan = request.tenant.plan
    budget = PlanBudget(
        plan=plan, windows=plan_windows(plan), own=quota_window(), own_key=quota_key(token_id)
    )
    request.plan_budget = budget
    return budget


def quota_headers(budget: PlanBudget, own: WindowUsage, *, refused: bool) -> dict[str, str]:
    """``RateLimit-Policy``: the plan's windows and this endpoint's; ``RateLimit``: all of them
    as read, or only this endpoint's window on its 429."""
    policies = (*plan_policies(budget.windows), (NAME, own.limit, MINUTE))
    if refused:
        usages: list[tuple[str, WindowUsage]] = [(NAME, own)]
    else:
        usages = [
            (window_label(w), u) for w, u in zip(budget.windows, budget.usages or (), strict=False)
        ]
        usages.append((NAME, own))
    return structured_headers(policies, usages)


def refusal_text(usage: WindowUsage) -> str:
    """What the endpoint's own 429 says (``errors.rate_limit``), in the active language."""
    return _(
        "Too many rate-limit status requests for this token (%(limit)s per minute). "
        "Retry in %(wait)s seconds."
    ) % {"limit": usage.limit, "wait": usage.retry_after}


class QuotaThrottle(BaseThrottle):
    """The endpoint's own window instead of the plan budget (module docs)."""

    def allow_request(self, request: Request, view: Any) -> bool:
        self.refusal: RateLimited | None = None
        if request.auth is None:
            return True
        budget = request.plan_budget
        if budget.own_usage is None:  # not peeked with the token check: peek now
            peeked = peek(budget.windows, PLAN_KEY, budget.own, budget.own_key)
            if peeked is None:  # cache unreachable: serve without limits
                return True
            budget.usages, budget.own_usage = peeked.read, peeked.own
        own = budget.own_usage
        if own.exceeded:
            self.refusal = too_many_requests(request, own, refusal_text(own))
            request.rate_limit_headers.update(quota_headers(budget, own, refused=True))
            return False
        report_usage(request, own)
        request.rate_limit_headers.update(quota_headers(budget, own, refused=False))
        return True

    def wait(self) -> float | None:
        return self.refusal.wait if self.refusal is not None else None
