"""A tenant's webhook subscriptions and the deliveries made to them (tenant schema)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from waqti.domain_events import EVENT_TYPES


class Subscription(models.Model):
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    events = ArrayField(models.CharField(max_length=64, choices=[(e, e) for e in EVENT_TYPES]))
    # Standard Webhooks' "whsec_" + base64 of 32 random bytes: needed to sign, so kept as is
    # (like the tenant's data, in its schema); shown once, in the create answer.
    secret = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    # Failed attempts in a row (any success resets it); at WAQTI_WEBHOOK_DISABLE_AFTER the
    # subscription is disabled and the tenant admins are emailed.
    failure_count = models.PositiveIntegerField(default=0)
    last_triggered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} -> {self.url}"


class Delivery(models.Model):
    """One event for one subscription: its body as sent, its attempts, its outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"  # every attempt failed, or the subscription was disabled

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(max_length=64)
    # The Standard Webhooks "webhook-id": the same for every attempt and for a redelivery, so a
    # receiver can drop what it already processed.
    message_id = models.CharField(max_length=64)
    body = models.TextField()  # the JSON sent: {"type", "timestamp", "data"}
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_duration_ms = models.FloatField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    next_retry_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subscription", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id} {self.status}"
