"""Tenant and Domain: the registry that maps hosts to PostgreSQL schemas."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

from tenancy.plans import Plan

SLUG_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
slug_validator = RegexValidator(
    SLUG_PATTERN, "Use lowercase letters, digits and single hyphens, starting with a letter."
)


def schema_name_for_slug(slug: str) -> str:
    """``acme-corp`` -> ``t_acme_corp``: prefixed so no slug can name a system schema."""
    return "t_" + slug.replace("-", "_")


class Tenant(TenantMixin):
    slug = models.CharField(max_length=48, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=255)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.PROFESSIONAL)
    created_at = models.DateTimeField(auto_now_add=True)
    # The first token id of this tenant issued with a checksummed secret (tokens.secrets): set by
    # a migration to the highest id then + 1 for tenants that had tokens before; 1 for new ones.
    first_checksummed_token_id = models.BigIntegerField(default=1, editable=False)

    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain
