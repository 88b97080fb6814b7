"""``manage.py add_tenant SLUG --name NAME --domain HOST [--domain HOST ...] --plan PLAN``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenancy.plans import Plan
from tenancy.services import TenantError, tenant_create


class Command(BaseCommand):
    help = (
        "Create a tenant: its schema (a copy of the migrated template), its domains and its plan."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="tenant id seen by clients, e.g. acme-corp")
        parser.add_argument("--name", required=True, help='display name, e.g. "ACME Corporation"')
        parser.add_argument(
            "--domain",
            action="append",
            required=True,
            dest="domains",
            help="host serving the tenant, e.g. acme.waqti.sa (repeatable; first is primary)",
        )
        parser.add_argument("--plan", required=True, help=f"one of: {', '.join(Plan.values)}")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stderr.write(f"Creating tenant {options['slug']!r} (copying the template schema)...")
        try:
            tenant = tenant_create(
                slug=options["slug"],
                name=options["name"],
                domains=options["domains"],
                plan=options["plan"],
            )
        except TenantError as exc:
            raise CommandError(str(exc)) from exc
        hosts = ", ".join(d.domain for d in tenant.domains.all())
        self.stdout.write(
            f"Created tenant {tenant.slug} ({tenant.name}), plan {tenant.plan}, "
            f"schema {tenant.schema_name}, serving {hosts}"
        )
