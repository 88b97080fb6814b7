"""Deliveries: what an event becomes for each subscriber, each attempt, retries, disabling.

**Queued with the change.** ``enqueue`` runs in the transaction of the change that raised the
event (``webhooks.publisher``): the ``Delivery`` row and its job (``webhooks.tasks.deliver``)
commit with the change or not at all, so a rolled-back change sends nothing and a committed one
is never lost, even if the process dies right after the commit.

**Signed** as the Standard Webhooks specification says (the ``standardwebhooks`` package):
``webhook-id`` (the delivery's ``message_id``, the same on every attempt and redelivery),
``webhook-timestamp`` (Unix seconds of the attempt) and ``webhook-signature``
(``v1,`` + base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}`` with the subscription's secret).

**Retried** after a failed attempt (a status other than 2xx, a timeout, a refused connection):
``RETRY_SCHEDULE`` from the first attempt, each wait +/- 20% (jitter, so a receiver coming back
is not hit by every retry at once): about 27 hours in all, then the delivery is ``failed``.
``WAQTI_WEBHOOK_DISABLE_AFTER`` failed attempts in a row, whatever the event, disable the
subscription (its pending deliveries fail) and email the tenant admins.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import random
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tokens.reminders import admin_emails
from waqti.api.serializers import utc_timestamp
from webhooks import transport
from webhooks.models import Delivery, Subscription

logger = logging.getLogger(__name__)

# Waits before attempts 2..8 (Standard Webhooks' suggested schedule): 5 s, 5 min, 30 min, 2 h,
# 5 h, 10 h, 10 h.
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
JITTER = 0.2


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(12)


def event_body(event_type: str, data: dict[str, Any]) -> str:
    """What every delivery of an event sends: ``{"type", "timestamp", "data"}``, compact JSON."""
    return json.dumps(
        {"type": event_type, "timestamp": utc_timestamp(timezone.now()), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def enqueue(subscription: Subscription, event_type: str, body: str, message_id: str) -> Delivery:
    """A pending delivery and its job, in the caller's transaction."""
    from webhooks.tasks import deliver  # the task module imports this one

    delivery = Delivery.objects.create(
        subscription=subscription, event_type=event_type, message_id=message_id, body=body
    )
    deliver.defer(schema=connection.schema_name, delivery_id=delivery.pk)
    return delivery


def signed_headers(secret: str, message_id: str, body: str, now: datetime) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }


def retry_wait(attempt: int) -> timedelta | None:
    """How long after failed attempt number ``attempt`` the next one runs; None: no more."""
    if attempt >= MAX_ATTEMPTS:
        return None
    wait = RETRY_SCHEDULE[attempt - 1]
    return wait * random.uniform(1 - JITTER, 1 + JITTER)


def attempt(delivery_id: int) -> str:
    """Make the next attempt of a pending delivery of the current schema; returns its outcome."""
    delivery = Delivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != Delivery.Status.PENDING:
        return "skipped"  # deleted with its subscription, or already settled
    subscription = delivery.subscription
    if not subscription.is_active:
        _settle(delivery, Delivery.Status.FAILED, error="The subscription is disabled.")
        return "failed"
    now = timezone.now()
    headers = signed_headers(subscription.secret, delivery.message_id, delivery.body, now)
    status: int | None = None
    duration: float | None = None
    try:
        answer = transport.post(subscription.url, delivery.body.encode(), headers)
    except transport.Refused as exc:
        error = str(exc)
    except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts, refusals, TLS,
        error = f"{type(exc).__name__}: {exc}"[:500]  # answers that are not HTTP
    else:
        status, duration = answer.status, answer.duration_ms
        error = "" if 200 <= answer.status < 300 else f"HTTP {answer.status}"
    return _record(delivery, now, status, duration, error)


def _record(
    delivery: Delivery, now: datetime, status: int | None, duration: float | None, error: str
) -> str:
    from webhooks.tasks import deliver

    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=delivery.subscription_id)
        delivery.attempts += 1
        delivery.last_status_code = status
        delivery.last_duration_ms = duration
        delivery.last_error = error
        subscription.last_triggered_at = now
        if not error:
            delivery.status = Delivery.Status.SUCCEEDED
            delivery.delivered_at = now
            delivery.next_retry_at = None
            subscription.failure_count = 0
            outcome = "succeeded"
        else:
            subscription.failure_count += 1
            wait = retry_wait(delivery.attempts)
            if subscription.failure_count >= settings.WAQTI_WEBHOOK_DISABLE_AFTER:
                _disable(subscription)
                wait = None
            if wait is None:
                delivery.status = Delivery.Status.FAILED
                delivery.next_retry_at = None
                outcome = "failed"
            else:
                delivery.next_retry_at = now + wait
                deliver.configure(schedule_at=delivery.next_retry_at).defer(
                    schema=connection.schema_name, delivery_id=delivery.pk
                )
                outcome = "retrying"
        delivery.save()
        subscription.save(update_fields=["failure_count", "last_triggered_at", "is_active"])
    return outcome


def _disable(subscription: Subscription) -> None:
    subscription.is_active = False
    Delivery.objects.filter(subscription=subscription, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED,
        next_retry_at=None,
        last_error="The subscription was disabled after failing too often.",
    )
    recipients = admin_emails()
    logger.warning(
        "webhooks: disabled subscription %s (%s) in %s after %d failed attempts in a row",
        subscription.pk,
        subscription.url,
        connection.schema_name,
        subscription.failure_count,
    )
    if recipients:
        transaction.on_commit(
            lambda: send_mail(
                f"Waqti: webhook \u201c{subscription.name}\u201d disabled",
                f"The webhook \u201c{subscription.name}\u201d ({subscription.url}) failed "
                f"{subscription.failure_count} times in a row and was disabled; its pending "
                "deliveries were dropped. Fix the receiver, then enable it again "
                f"(PATCH /api/v1/webhooks/{subscription.pk} with is_active: true).",
                settings.DEFAULT_FROM_EMAIL,
                recipients,
                fail_silently=True,
            )
        )


def _settle(delivery: Delivery, status: str, *, error: str) -> None:
    delivery.status = status
    delivery.last_error = error
    delivery.next_retry_at = None
    delivery.save(update_fields=["status", "last_error", "next_retry_at"])


def redeliver(delivery: Delivery) -> Delivery:
    """Send a delivery again as a new one with the same body and ``webhook-id``."""
    with transaction.atomic():
        return enqueue(
            delivery.subscription, delivery.event_type, delivery.body, delivery.message_id
        )
