"""The delivery job: one attempt of one delivery, in its tenant's schema (``webhooks.delivery``)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django_tenants.utils import schema_context
from procrastinate.contrib.django import app

from tenancy.services import total_in_each_tenant
from tenancy.tasks import MAINTENANCE, MAINTENANCE_RETRY
from webhooks import delivery
from webhooks.models import Delivery

logger = logging.getLogger(__name__)

DELIVERIES_KEPT_DAYS = 30

QUEUE = "webhooks"


# No procrastinate retry: webhooks.delivery schedules the next attempt itself (its own backoff),
# in the transaction that records this one.
@app.task(queue=QUEUE, name="webhooks.deliver")
def deliver(schema: str, delivery_id: int) -> str:
    with schema_context(schema):
        return delivery.attempt(delivery_id)


@app.periodic(cron="37 4 * * *", periodic_id="prune_deliveries")  # daily, 04:37 UTC
@app.task(queue=MAINTENANCE, retry=MAINTENANCE_RETRY, name="webhooks.prune_deliveries")
def prune_deliveries(timestamp: int) -> int:
    """Delete settled deliveries (succeeded or failed) created over ``DELIVERIES_KEPT_DAYS``
    days before the schedule's ``timestamp``, in every tenant; returns how many."""
    cutoff = datetime.fromtimestamp(timestamp, UTC) - timedelta(days=DELIVERIES_KEPT_DAYS)

    def prune() -> int:
        old = Delivery.objects.filter(created_at__lt=cutoff)
        return old.exclude(status=Delivery.Status.PENDING).delete()[0]

    total, tenants = total_in_each_tenant(prune)
    logger.info(
        "pruned %d webhook deliveries older than %d days across %d tenants",
        total,
        DELIVERIES_KEPT_DAYS,
        tenants,
    )
    return total
