"""Drop cached host resolutions whenever a tenant or domain changes."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tenancy.models import Domain, Tenant
from tenancy.resolver import resolver


@receiver([post_save, post_delete], sender=Tenant)
@receiver([post_save, post_delete], sender=Domain)
def invalidate_host_cache(**kwargs: Any) -> None:
    resolver.invalidate()
    transaction.on_commit(resolver.invalidate)
