"""The delivery job: one attempt of one delivery, in its tenant's schema (``webhooks.delivery``)."""

from __future__ import annotations

from django_tenants.utils import schema_context
from procrastinate.contrib.django import app

from webhooks import delivery

QUEUE = "webhooks"


# No procrastinate retry: webhooks.delivery schedules the next attempt itself (its own backoff),
# in the transaction that records this one.
@app.task(queue=QUEUE, name="webhooks.deliver")
def deliver(schema: str, delivery_id: int) -> str:
    with schema_context(schema):
        return delivery.attempt(delivery_id)
