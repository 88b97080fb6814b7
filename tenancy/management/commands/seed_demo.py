"""``manage.py seed_demo``: the demo tenant acme-corp with sample data and a fresh admin token.

Idempotent: running it again keeps existing data and only issues a new token.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django_tenants.utils import tenant_context

from tenancy.resolver import tenant_by_slug
from tenancy.services import tenant_create
from tokens.services import Actor, token_create

DEMO_SLUG = "acme-corp"
DEMO_NAME = "ACME Corporation"
DEMO_HOST = "acme.localhost"


class Command(BaseCommand):
    help = "Create (or refresh) the demo tenant acme-corp and print how to use it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=settings.PORT, help="port shown in URLs")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(DEMO_SLUG)
        if tenant is None:
            self.stderr.write(f"Creating demo tenant {DEMO_SLUG} at {DEMO_HOST} ...")
            tenant = tenant_create(slug=DEMO_SLUG, name=DEMO_NAME, domains=[DEMO_HOST], plan="professional")
        else:
            self.stderr.write(f"Demo tenant {DEMO_SLUG} exists; keeping its data.")
        with tenant_context(tenant):
            issued = token_create(
                name="Demo admin token", abilities=["admin"], actor=Actor(label="cli:seed_demo")
            )
        base = f"http://{DEMO_HOST}:{options['port']}"
        self.stdout.write(
            "\n".join(
                [
                    f"Demo tenant: {tenant.name} ({tenant.slug}), plan {tenant.plan}",
                    f"API:         {base}/api/v1/",
                    f"Admin token: {issued.plaintext}",
                    "Try it:",
                    f'  curl -s "{base}/api/v1/me" -H "Authorization: Bearer {issued.plaintext}" '
                    '-H "Accept: application/json"',
                ]
            )
        )
