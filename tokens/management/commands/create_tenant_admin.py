"""``manage.py create_tenant_admin SLUG --email EMAIL [--password PASSWORD]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context

from tenancy.resolver import tenant_by_slug
from tokens.settings_ui.accounts import TenantAdminError, tenant_admin_create


class Command(BaseCommand):
    help = (
        "Create a user who can log into the tenant's Settings -> API Settings page as an admin; "
        "prints a generated password when none is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="tenant id, e.g. acme-corp")
        parser.add_argument("--email", required=True, help="the login, e.g. admin@acme.example")
        parser.add_argument("--password", help="at least 8 characters; generated when omitted")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["slug"])
        if tenant is None:
            raise CommandError(f"unknown tenant {options['slug']!r}")
        try:
            with tenant_context(tenant):
                created = tenant_admin_create(email=options["email"], password=options["password"])
        except TenantAdminError as exc:
            raise CommandError(str(exc)) from exc
        domain = tenant.get_primary_domain()
        host = domain.domain if domain else "<tenant host>"
        lines = [f"Created tenant admin {created.user.get_username()} for {tenant.slug}."]
        if created.generated:
            lines.append(f"Password: {created.password}")
        lines.append(f"Log in at http://{host}/settings/login/ (add the port in development).")
        self.stdout.write("\n".join(lines))
