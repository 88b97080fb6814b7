"""``GET /health`` on any host: checks the database and the cache for real."""

from __future__ import annotations

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from waqti import redis_cache
from waqti.database_outage import is_database_unavailable, mark_answered

logger = logging.getLogger("waqti.health")


def _database_ok(request: HttpRequest) -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception as exc:
        if is_database_unavailable(exc):
            # An outage is logged once per incident (waqti.database_outage), not per probe.
            mark_answered(request, exc)
        else:
            logger.exception("health: database check failed")
        return False


def _cache_ok() -> bool:
    key = f"health:{uuid.uuid4().hex}"
    try:
        cache.set(key, "ok", timeout=5)
        ok = cache.get(key) == "ok"
        cache.delete(key)
        return ok
    except Exception as exc:
        if not redis_cache.unreachable(exc):  # the Redis breaker logs those, once per outage
            logger.exception("health: cache check failed")
        return False


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    database = _database_ok(request)
    cache_ok = _cache_ok()
    body = {
        "status": "ok" if database and cache_ok else "error",
        "database": "ok" if database else "error",
        "cache": "ok" if cache_ok else "error",
    }
    return JsonResponse(body, status=200 if database and cache_ok else 503)
