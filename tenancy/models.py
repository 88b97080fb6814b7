"""Tenant and Domain: the registry that maps hosts to PostgreSQL schemas."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import connection, models, transaction
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import schema_exists

from tenancy.plans import Plan
from tenancy.schema_clone import clone_schema

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

    def create_schema(
        self, check_if_exists: bool = False, sync_schema: bool = True, verbosity: int = 1
    ) -> bool:
        """Copy the migrated template schema (tenancy/schema_clone.py) rather than migrate.

        Without a template (a database ``migrate`` has not reached since this code shipped),
        django-tenants' own path: create the schema and replay every migration.
        """
        template = settings.WAQTI_TENANT_TEMPLATE_SCHEMA
        if not sync_schema or not schema_exists(template):
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        # A savepoint: on failure save() deletes the row, which needs a usable transaction.
        with transaction.atomic():
            clone_schema(template, self.schema_name)
        connection.set_schema_to_public()
        return True


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain
