"""The tenant's plan budget: its windows, its 429, and the per-request count of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from tenancy.plans import plan_limits
from tokens.ratelimit.counter import Window, WindowUsage
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
    cached token, or else by the throttle (``tokens.ratelimit.throttle``)."""

    plan: str
    windows: tuple[Window, ...]
    usages: list[WindowUsage] | None = None  # None: not counted (yet, or the cache is down)


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


def plan_refusal(request: Any, label: str, usage: WindowUsage, plan: str) -> RateLimited:
    """The plan's 429 for a request counted past the ``label`` window's limit (the DRF path)."""
    return too_many_requests(request, usage, refusal_text(label, usage, plan))


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
