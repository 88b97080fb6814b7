"""The API activity log's table: one row per ``/api/v1`` request of a tenant (app ``tokens``)."""

from __future__ import annotations

from django.db import models

# The columns a log entry fills, in the order ``tokens.activity.rows.copy_rows`` writes them:
# all but the id.
LOG_FIELDS = (
    "occurred_at",
    "token_id",
    "token_name",
    "method",
    "path",
    "query_string",
    "status",
    "duration_ms",
    "ip_address",
    "user_agent",
    "request_id",
)


class ApiRequestLog(models.Model):
    """One ``/api/v1`` request, as recorded by the activity log (written in batches).

    ``token_id`` is a plain integer, not a foreign key: failed requests record the id they
    claimed, and history outlives pruned tokens. Secrets and the Authorization header are
    never stored.
    """

    occurred_at = models.DateTimeField(db_index=True)
    token_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    token_name = models.CharField(max_length=255, blank=True, default="")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2048)
    query_string = models.CharField(max_length=2048, blank=True, default="")
    status = models.PositiveSmallIntegerField()
    duration_ms = models.FloatField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    request_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["token_id", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"
