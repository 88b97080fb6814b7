"""Subscription plans and their rate limits (defaults from the seed, overridable by env)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import models


class Plan(models.TextChoices):
    PROFESSIONAL = "professional", "Professional"
    ENTERPRISE = "enterprise", "Enterprise"
    ULTIMATE = "ultimate", "Ultimate"


@dataclass(frozen=True)
class PlanLimits:
    """Requests allowed per minute and per day; ``None`` means unlimited."""

    per_minute: int | None
    per_day: int | None


def plan_limits(plan: str) -> PlanLimits:
    per_minute, per_day = settings.WAQTI_RATE_LIMITS[plan]
    return PlanLimits(per_minute=per_minute, per_day=per_day)
