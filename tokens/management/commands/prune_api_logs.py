"""``manage.py prune_api_logs [--older-than-days N]``: API activity log retention, every tenant."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tenancy.services import in_each_tenant
from tokens.activity.log import api_logs_prune


class Command(BaseCommand):
    help = "Delete API activity log entries older than N days in every tenant (cron-friendly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=None,
            dest="days",
            help=f"default: WAQTI_API_LOG_RETENTION_DAYS ({settings.WAQTI_API_LOG_RETENTION_DAYS})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is None:
            days = settings.WAQTI_API_LOG_RETENTION_DAYS
        if days < 1:
            raise CommandError("--older-than-days must be a positive number of days.")
        now = timezone.now()
        total = tenants = 0
        for number, tenants, tenant in in_each_tenant():
            count = api_logs_prune(older_than_days=days, now=now)
            total += count
            if options["verbosity"] >= 1:
                self.stdout.write(f"[{number}/{tenants}] {tenant.slug}: pruned {count} entries")
        self.stdout.write(
            f"Pruned {total} API log entries older than {days} days across {tenants} tenants."
        )
