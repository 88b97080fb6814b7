"""``manage.py prune_tokens --older-than-days N``: delete long-revoked or long-expired tokens."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tenancy.services import in_each_tenant
from tokens.services import tokens_prune


class Command(BaseCommand):
    help = "Delete tokens revoked or expired more than N days ago, in every tenant (cron-friendly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than-days", type=int, default=90, dest="days")

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for _number, _tenants, tenant in in_each_tenant():
            count = tokens_prune(older_than_days=options["days"])
            total += count
            if count:
                self.stdout.write(f"{tenant.slug}: pruned {count} token(s)")
        self.stdout.write(
            f"Pruned {total} token(s) revoked or expired over {options['days']} days ago."
        )
