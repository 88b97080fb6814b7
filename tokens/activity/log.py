"""The stored activity log: what the API list and the Settings page read, and pruning."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from tokens.activity.buffer import buffer
from tokens.activity.models import ApiRequestLog
from tokens.models import TokenEvent


def flush_pending() -> int:
    """Write this process's queued entries now, so a reader sees a request it just made.

    Other workers' entries arrive within their flush interval (about a second).
    """
    return buffer.flush()


def api_logs(
    *,
    token_id: int | None = None,
    status: int | None = None,
    method: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[ApiRequestLog]:
    """The current schema's log, newest first, narrowed by the given filters (bounds inclusive)."""
    logs = ApiRequestLog.objects.order_by("-occurred_at", "-id")
    if token_id is not None:
        logs = logs.filter(token_id=token_id)
    if status is not None:
        logs = logs.filter(status=status)
    if method is not None:
        logs = logs.filter(method=method)
    if since is not None:
        logs = logs.filter(occurred_at__gte=since)
    if until is not None:
        logs = logs.filter(occurred_at__lte=until)
    return logs


def recent_requests_for_token(token_id: int, limit: int = 50) -> list[ApiRequestLog]:
    """The token's latest ``limit`` requests in the current schema, newest first."""
    flush_pending()
    return list(api_logs(token_id=token_id)[:limit])


def events_for_token(token_id: int) -> list[TokenEvent]:
    """The token's lifecycle events (created, regenerated, revoked), newest first, with actors."""
    return list(
        TokenEvent.objects.filter(token_id=token_id)
        .select_related("actor_user", "actor_token")
        .order_by("-occurred_at", "-id")
    )


def api_logs_prune(
    *, older_than_days: int, now: datetime | None = None, chunk_size: int = 10_000
) -> int:
    """Delete the current schema's entries older than ``older_than_days``; returns the count.

    Deletes in chunks so a large backlog never holds one long lock on the table.
    """
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    stale = ApiRequestLog.objects.filter(occurred_at__lt=cutoff)
    total = 0
    while True:
        ids = list(stale.values_list("pk", flat=True)[:chunk_size])
        if not ids:
            return total
        deleted, _by_model = ApiRequestLog.objects.filter(pk__in=ids).delete()
        total += deleted
