"""Tables of the API layer itself, kept in each tenant's schema (keys are per tenant)."""

from __future__ import annotations

from django.db import models


class IdempotencyKey(models.Model):
    """A create request seen with an ``Idempotency-Key`` and the response it got.

    Used by ``waqti.api.idempotency`` for every create endpoint. The table was created by
    ``procurement``'s first migration and keeps that name: the model moved here in migration
    state only, so no row moved.
    """

    key = models.CharField(max_length=255, unique=True)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # Rendered JSON text, not jsonb: jsonb reorders keys, and a replay must be byte-identical.
    response_body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "procurement_idempotencykey"

    def __str__(self) -> str:
        return self.key
