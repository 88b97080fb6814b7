"""The token app's periodic work, on the job queue (procrastinate, on the project's PostgreSQL).

The worker (``manage.py procrastinate worker``: ``make run`` starts one beside the server,
docker-compose runs the ``worker`` service) defers each periodic job itself when its schedule
comes (UTC), once per schedule whatever the number of workers (procrastinate's periodic lock),
and runs it with retries. Each job works on every tenant in turn (``tenancy.services
.total_in_each_tenant``) and logs one line with what it did. ``manage.py prune_api_logs`` and
``prune_tokens`` do the same work on demand.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.conf import settings
from procrastinate.contrib.django import app

from tenancy.services import total_in_each_tenant
from tenancy.tasks import MAINTENANCE, MAINTENANCE_RETRY
from tokens import reminders
from tokens.activity.log import api_logs_prune
from tokens.services import tokens_prune

logger = logging.getLogger(__name__)

PRUNE_TOKENS_AFTER_DAYS = 90  # revoked or expired this long ago, as `manage.py prune_tokens`


@app.periodic(cron="17 3 * * *", periodic_id="prune_api_logs")  # daily, 03:17 UTC
@app.task(queue=MAINTENANCE, retry=MAINTENANCE_RETRY, name="tokens.prune_api_logs")
def prune_api_logs(timestamp: int) -> int:
    """Delete activity log entries older than ``WAQTI_API_LOG_RETENTION_DAYS`` (as of the
    schedule's ``timestamp``) in every tenant; returns how many."""
    now = datetime.fromtimestamp(timestamp, UTC)
    days = settings.WAQTI_API_LOG_RETENTION_DAYS
    total, tenants = total_in_each_tenant(lambda: api_logs_prune(older_than_days=days, now=now))
    logger.info(
        "pruned %d API log entries older than %d days across %d tenants", total, days, tenants
    )
    return total


@app.periodic(cron="47 3 * * *", periodic_id="prune_tokens")  # daily, 03:47 UTC
@app.task(queue=MAINTENANCE, retry=MAINTENANCE_RETRY, name="tokens.prune_tokens")
def prune_tokens(timestamp: int) -> int:
    """Delete tokens revoked or expired over ``PRUNE_TOKENS_AFTER_DAYS`` days before the
    schedule's ``timestamp`` in every tenant; returns how many."""
    now = datetime.fromtimestamp(timestamp, UTC)
    total, tenants = total_in_each_tenant(
        lambda: tokens_prune(older_than_days=PRUNE_TOKENS_AFTER_DAYS, now=now)
    )
    logger.info(
        "pruned %d tokens revoked or expired over %d days ago across %d tenants",
        total,
        PRUNE_TOKENS_AFTER_DAYS,
        tenants,
    )
    return total


@app.periodic(cron="0 6 * * *", periodic_id="token_reminders")  # daily, 06:00 UTC (09:00 Riyadh)
@app.task(queue=MAINTENANCE, retry=MAINTENANCE_RETRY, name="tokens.token_reminders")
def token_reminders(timestamp: int) -> int:
    """In every tenant: record tokens the policy expired for want of use, and email the admins
    what falls due within ``WAQTI_TOKEN_REMINDER_DAYS`` (``tokens.reminders``); returns how many
    items were reminded."""
    now = datetime.fromtimestamp(timestamp, UTC)
    days = settings.WAQTI_TOKEN_REMINDER_DAYS
    swept, _tenants = total_in_each_tenant(lambda: reminders.sweep_unused(now))
    reminded, tenants = total_in_each_tenant(lambda: reminders.remind(now, days))
    logger.info(
        "token reminders: %d items due within %d days reminded, %d tokens recorded as expired "
        "for want of use, across %d tenants",
        reminded,
        days,
        swept,
        tenants,
    )
    return reminded
