"""The tenant's plan budget: its windows, its 429, and the per-request count of them."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from tenancy.plans import plan_limits
from tokens.ratelimit.counter import Window, WindowUsage
from tokens.ratelimit.fields import Policy, structured_headers
from tokens.ratelimit.memo import ExhaustedWindow, exhausted
from tokens.ratelimit.refusal import too_many_requests
from waqti.api.exceptions import RateLimited

MINUTE = 60
DAY = 86_400
# The counters' key within the tenant: the cache key function adds the tenant's schema.
PLAN_KEY = "tenant"


def plan_windows(plan: str) -> tuple[Window, ...]:
    """The plan's windows, minute first; a window without a limit is not counted at all."""
    limits = plan_limits(plan)
    return tuple(
        Window(f"waqti.plan.{label}", limit, period)
        for label, limit, period in (
            ("minute", limits.per_minute, MINUTE),
            ("day", limits.per_day, DAY),
        )
        if limit is not None
    )


@dataclass(slots=True)
class PlanBudget:
    """One request's plan budget: the tenant's windows, computed once per request, and their
    counts, counted once per request: by ``tokens.lookup`` in the Redis call that confirms a
    cached token, or else by the throttle (``tokens.ratelimit.throttle``).

    With ``own`` (``GET /api/v1/rate-limit``, ``tokens.ratelimit.quota``) the plan's windows are
    only read, and the request is counted in ``own`` under ``own_key`` instead."""

    plan: str
    windows: tuple[Window, ...]
    usages: list[WindowUsage] | None = None  # None: not counted (yet, or the cache is down)
    own: Window | None = None
    own_key: str = ""
    own_usage: WindowUsage | None = None


def plan_budget(request: Any) -> PlanBudget:
    """The request's ``PlanBudget``, made from its tenant's plan on first use and kept on it."""
    budget = getattr(request, "plan_budget", None)
    if budget is None:
        plan = request.tenant.plan
        budget = PlanBudget(plan=plan, windows=plan_windows(plan))
        request.plan_budget = budget
    return budget


def window_label(window: Window) -> str:
    return "minute" if window.period == MINUTE else "day"


@functools.lru_cache(maxsize=64)
def plan_policies(windows: tuple[Window, ...]) -> tuple[Policy, ...]:
    """The windows as ``RateLimit-Policy`` policies (``tokens.ratelimit.fields``)."""
    return tuple((window_label(window), window.limit, window.period) for window in windows)


def usage_headers(windows: tuple[Window, ...], usages: list[WindowUsage] | None) -> dict[str, str]:
    """``RateLimit-Policy`` for the plan's windows and ``RateLimit`` for those counted."""
    named = [(window_label(w), u) for w, u in zip(windows, usages or (), strict=False)]
    return structured_headers(plan_policies(windows), named)


def refusal_structured_headers(
    windows: tuple[Window, ...], label: str, usage: WindowUsage
) -> dict[str, str]:
    """The structured headers of a plan 429: every policy, and only the refusing window."""
    return structured_headers(plan_policies(windows), [(label, usage)])


def refusal_text(label: str, usage: WindowUsage, plan: str) -> str:
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


def plan_refusal(request: Any, label: str, usage: WindowUsage, budget: PlanBudget) -> RateLimited:
    """The plan's 429 for a request counted past the ``label`` window's limit (the DRF path)."""
    refusal = too_many_requests(request, usage, refusal_text(label, usage, budget.plan))
    request.rate_limit_headers.update(refusal_structured_headers(budget.windows, label, usage))
    return refusal


def remember_spent_window(budget: PlanBudget, usages: list[WindowUsage]) -> None:
    """Tell this worker's memo about the first spent window of the budget.

    The next request would be counted into it and refused by it (windows are counted in order),
    so until its reset this worker can refuse locally authenticated tokens without Redis.
    """
    for window, usage in zip(budget.windows, usages, strict=False):
        if usage.spent:
            spent = ExhaustedWindow(
                limit=usage.limit,
                reset_at=usage.reset_at,
                label=window_label(window),
                plan=budget.plan,
            )
            exhausted.note(connection.schema_name, PLAN_KEY, spent)
            return


def spent_plan_window(schema: str, plan: str) -> ExhaustedWindow | None:
    """The plan window this worker knows is spent for the tenant, if it is still on ``plan``."""
    window = exhausted.get(schema, PLAN_KEY)
    return window if window is not None and window.plan == plan else None
