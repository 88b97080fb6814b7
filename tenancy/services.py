"""Business writes for tenants: creation (all or nothing), plan changes; work in every tenant."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, tenant_context

from tenancy.models import SLUG_PATTERN, Domain, Tenant, schema_name_for_slug
from tenancy.plans import Plan

HOST_PATTERN = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


class TenantError(Exception):
    """A tenant operation was refused; the message is fit to show a user."""


def tenant_create(*, slug: str, name: str, domains: list[str], plan: str) -> Tenant:
    """Create a tenant, its schema (copied from the migrated template) and domains, or nothing."""
    slug = slug.strip()
    if not re.match(SLUG_PATTERN, slug) or len(slug) > 48:
        raise TenantError(
            f"invalid slug {slug!r}: use lowercase letters, digits and single hyphens, "
            "starting with a letter (at most 48 characters)"
        )
    if plan not in Plan.values:
        raise TenantError(f"unknown plan {plan!r}: choose one of {', '.join(Plan.values)}")
    if not name.strip():
        raise TenantError("name must not be empty")
    if not domains:
        raise TenantError("at least one --domain is required")
    hosts = [d.strip().lower() for d in domains]
    for host in hosts:
        if not HOST_PATTERN.match(host):
            raise TenantError(f"invalid domain {host!r}: give a host name without scheme or port")
    if len(set(hosts)) != len(hosts):
        raise TenantError("the same domain was given twice")
    if Tenant.objects.filter(slug=slug).exists():
        raise TenantError(f"a tenant with slug {slug!r} already exists")
    taken = list(Domain.objects.filter(domain__in=hosts).values_list("domain", flat=True))
    if taken:
        raise TenantError(f"domain {taken[0]!r} already belongs to a tenant")

    tenant = Tenant(slug=slug, name=name.strip(), plan=plan, schema_name=schema_name_for_slug(slug))
    try:
        tenant.full_clean()
    except ValidationError as exc:
        raise TenantError("; ".join(exc.messages)) from exc
    connection.set_schema_to_public()
    # The schema is copied from the template by save() (Tenant.create_schema); if anything after
    # it fails, the row and the schema are rolled back together (PostgreSQL DDL is transactional).
    with transaction.atomic():
        tenant.save(verbosity=0)
        for index, host in enumerate(hosts):
            Domain.objects.create(domain=host, tenant=tenant, is_primary=index == 0)
    connection.set_schema_to_public()
    return tenant


def tenant_change_plan(*, tenant: Tenant, plan: str) -> Tenant:
    """Move a tenant to another plan; applies from its next request."""
    if plan not in Plan.values:
        raise TenantError(f"unknown plan {plan!r}: choose one of {', '.join(Plan.values)}")
    tenant.plan = plan
    tenant.save(update_fields=["plan"])
    return tenant


def in_each_tenant() -> Iterator[tuple[int, int, Tenant]]:
    """Yield ``(number, count, tenant)`` for every tenant (by slug, numbered from 1 of
    ``count``) with the connection in its schema while the caller works on it; back on the
    public schema afterwards. For commands and jobs that serve every tenant."""
    tenants = list(Tenant.objects.exclude(schema_name=get_public_schema_name()).order_by("slug"))
    for number, tenant in enumerate(tenants, start=1):
        with tenant_context(tenant):
            yield number, len(tenants), tenant


def total_in_each_tenant(work: Callable[[], int]) -> tuple[int, int]:
    """Run ``work`` in every tenant's schema (``in_each_tenant``); returns the sum of what it
    returned and the number of tenants."""
    total = tenants = 0
    for _number, count, _tenant in in_each_tenant():
        total += work()
        tenants = count
    return total, tenants
