"""Host -> tenant resolution, cached per worker and invalidated when tenants or domains change."""

from __future__ import annotations

import copy
import threading
import time

from django.core.cache import cache
from django_tenants.utils import schema_context

from tenancy.models import Domain, Tenant

# Other processes learn of a change through this counter in the shared cache; a worker re-reads
# it at most every VERSION_CHECK_SECONDS, so a plan or domain change is seen within that time.
VERSION_KEY = "tenancy:registry-version"
VERSION_CHECK_SECONDS = 1.0


class TenantResolver:
    """Per-process map of hostname to tenant, dropped whenever the registry version changes."""

    clock = staticmethod(time.monotonic)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tenants: dict[str, Tenant | None] = {}
        self._version: object = None
        self._checked_at = float("-inf")

    def resolve(self, hostname: str) -> Tenant | None:
        """Return a private copy of the tenant serving ``hostname``, or None when unknown."""
        self._refresh_if_stale()
        try:
            tenant = self._tenants[hostname]
        except KeyError:
            tenant = self._load(hostname)
            with self._lock:
                self._tenants[hostname] = tenant
        # The middleware writes request-specific attributes onto the tenant: never share one.
        return copy.copy(tenant) if tenant is not None else None

    def invalidate(self) -> None:
        """Forget every cached host here and tell the other processes to do the same."""
        with self._lock:
            self._tenants.clear()
        try:
            with schema_context("public"):
                cache.set(VERSION_KEY, time.time_ns(), timeout=None)
        except Exception:
            self._checked_at = float("-inf")

    def _refresh_if_stale(self) -> None:
        now = self.clock()
        if now - self._checked_at < VERSION_CHECK_SECONDS:
            return
        self._checked_at = now
        try:
            version = cache.get(VERSION_KEY)
        except Exception:
            version = object()
        if version != self._version:
            with self._lock:
                self._tenants.clear()
                self._version = version

    @staticmethod
    def _load(hostname: str) -> Tenant | None:
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        return domain.tenant if domain else None


resolver = TenantResolver()


def tenant_by_slug(slug: str) -> Tenant | None:
    return Tenant.objects.filter(slug=slug).first()
