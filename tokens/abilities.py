"""The five abilities of the seed document and what each one grants."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _


class Ability(models.TextChoices):
    READ = "read", _("Read-only access to all resources")
    WRITE = "write", _("Create and update resources")
    DELETE = "delete", _("Delete resources")
    APPROVE = "approve", _("Approve/reject items")
    ADMIN = "admin", _("Full administrative access")


ALL_ABILITIES: tuple[str, ...] = tuple(Ability.values)


def normalize_abilities(abilities: Iterable[str]) -> list[str]:
    """Fold duplicates and order abilities as the seed lists them."""
    wanted = set(abilities)
    return [ability for ability in ALL_ABILITIES if ability in wanted]


def has_ability(granted: Iterable[str], required: str) -> bool:
    """``admin`` implies every other ability."""
    granted = set(granted)
    return required in granted or Ability.ADMIN in granted


def grants_all(granted: Iterable[str], requested: Iterable[str]) -> bool:
    """True when a token holding ``granted`` may hand out ``requested`` (no escalation)."""
    granted = list(granted)
    return all(has_ability(granted, ability) for ability in requested)
