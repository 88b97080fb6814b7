"""``manage.py issue_token SLUG --name NAME --abilities read,write [--expires-at ISO]
[--allowed-ips 192.0.2.0/24,2001:db8::1]``."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tenants.utils import tenant_context

from tenancy.resolver import tenant_by_slug
from tokens.abilities import ALL_ABILITIES
from tokens.services import Actor, token_create
from waqti.errors import InvalidInput


class Command(BaseCommand):
    help = "Issue an API token for a tenant; prints only the plaintext token on stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--abilities", required=True, help=f"comma-separated: {','.join(ALL_ABILITIES)}"
        )
        parser.add_argument("--expires-at", dest="expires_at", help="ISO 8601, in the future")
        parser.add_argument(
            "--allowed-ips",
            dest="allowed_ips",
            default="",
            help="comma-separated IPv4/IPv6 addresses and CIDRs the token may be used from "
            "(default: anywhere)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["slug"])
        if tenant is None:
            raise CommandError(f"unknown tenant {options['slug']!r}")
        name = options["name"].strip()
        if not name or len(name) > 255:
            raise CommandError("--name must be 1 to 255 characters")
        abilities = [a.strip() for a in options["abilities"].split(",") if a.strip()]
        unknown = [a for a in abilities if a not in ALL_ABILITIES]
        if not abilities or unknown:
            raise CommandError(
                f"bad --abilities {options['abilities']!r}: choose from {', '.join(ALL_ABILITIES)}"
            )
        expires_at = None
        if options["expires_at"]:
            expires_at = parse_datetime(options["expires_at"])
            if expires_at is None:
                raise CommandError(f"--expires-at {options['expires_at']!r} is not ISO 8601")
            if timezone.is_naive(expires_at):
                expires_at = timezone.make_aware(expires_at, UTC)
            if expires_at <= timezone.now():
                raise CommandError("--expires-at must be in the future")
        allowed_ips = [
            entry.strip() for entry in options["allowed_ips"].split(",") if entry.strip()
        ]
        with tenant_context(tenant):
            try:
                issued = token_create(
                    name=name,
                    abilities=abilities,
                    expires_at=expires_at,
                    allowed_ips=allowed_ips,
                    actor=Actor(label="cli:issue_token"),
                )
            except InvalidInput as refused:  # the tenant's token policy, or a bad allowlist
                raise CommandError(
                    "; ".join(
                        f"--{field.replace('_', '-')}: {message}"
                        for field, messages in refused.errors.items()
                        for message in messages
                    )
                ) from None
        self.stdout.write(issued.plaintext)
