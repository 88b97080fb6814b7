"""``manage.py seed_demo``: the demo tenant acme-corp with sample data and a fresh admin token.

Idempotent: running it again keeps existing data and only issues a new token.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django_tenants.utils import tenant_context

from procurement.demo import seed_demo_data
from tenancy.resolver import tenant_by_slug
from tenancy.services import tenant_create
from tokens.services import Actor, token_create
from tokens.settings_ui.accounts import tenant_admin_ensure

DEMO_SLUG = "acme-corp"
DEMO_NAME = "ACME Corporation"
DEMO_HOST = "acme.localhost"
# The Settings page login of the demo admin: documented, reset on every run (not a secret).
DEMO_ADMIN_EMAIL = "admin@acme.example"
DEMO_ADMIN_PASSWORD = "acme-demo-admin"  # noqa: S105


class Command(BaseCommand):
    help = "Create (or refresh) the demo tenant acme-corp and print how to use it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=settings.PORT, help="port shown in URLs")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(DEMO_SLUG)
        if tenant is None:
            self.stderr.write(f"Creating demo tenant {DEMO_SLUG} at {DEMO_HOST} ...")
            tenant = tenant_create(
                slug=DEMO_SLUG, name=DEMO_NAME, domains=[DEMO_HOST], plan="professional"
            )
        else:
            self.stderr.write(f"Demo tenant {DEMO_SLUG} exists; keeping its data.")
        with tenant_context(tenant):
            tenant_admin_ensure(email=DEMO_ADMIN_EMAIL, password=DEMO_ADMIN_PASSWORD)
            issued = token_create(
                name="Demo admin token", abilities=["admin"], actor=Actor(label="cli:seed_demo")
            )
            demo = seed_demo_data(token_id=issued.token.pk)
        base = f"http://{DEMO_HOST}:{options['port']}"
        self.stdout.write(
            "\n".join(
                [
                    f"Demo tenant: {tenant.name} ({tenant.slug}), plan {tenant.plan}",
                    f"API:         {base}/api/v1/",
                    f"Demo data:   {demo.departments} departments, {demo.vendors} vendors, "
                    f"{demo.purchase_orders} purchase orders"
                    + ("" if demo.created else " (already there; nothing added)"),
                    f"Settings:    {base}/settings/login/  (log in as {DEMO_ADMIN_EMAIL} / "
                    f"{DEMO_ADMIN_PASSWORD})",
                    f"Admin token: {issued.plaintext}",
                    "Try it:",
                    f'  curl -s "{base}/api/v1/me" -H "Authorization: Bearer {issued.plaintext}" '
                    '-H "Accept: application/json"',
                ]
            )
        )
