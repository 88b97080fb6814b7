"""``Idempotency-Key`` for create endpoints: a retried POST replays its first answer.

How it holds under retries and races: the key row is inserted in the same transaction as the
object the request creates, and its response is stored before that transaction commits. A
concurrent request with the same key blocks on the key's unique index until the first one
commits (then it replays) or rolls back (then it proceeds as the first). A request that fails
rolls its key back too, so only successful creates are remembered.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from waqti.api.exceptions import InvalidData
from waqti.api.models import IdempotencyKey
from waqti.errors import StateConflict

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
RETENTION = timedelta(hours=24)
# Visible ASCII without spaces: UUIDs, ULIDs and ERP document ids all fit.
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


def request_fingerprint(method: str, path: str, body: Any) -> str:
    """Stable hash of what was asked: the same JSON with keys in another order is the same."""
    canonical = json.dumps(body, cls=JSONEncoder, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def _claim(key: str, fingerprint: str, now: datetime) -> bool:
    """Insert the key, or take over one older than the retention window; True when ours.

    Blocks while another open transaction holds the same key.
    """
    table = connection.ops.quote_name(IdempotencyKey._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (key, fingerprint, status_code, response_body, created_at)
            VALUES (%s, %s, NULL, '', %s)
            ON CONFLICT (key) DO UPDATE
               SET fingerprint = EXCLUDED.fingerprint, status_code = NULL,
                   response_body = '', created_at = EXCLUDED.created_at
             WHERE {table}.created_at <= %s
            RETURNING id
            """,  # noqa: S608 - the table name is our own model's, values are parameters
            [key, fingerprint, now, now - RETENTION],
        )
        return cursor.fetchone() is not None


def _replay(key: str, fingerprint: str) -> Response:
    record = IdempotencyKey.objects.get(key=key)
    if record.fingerprint != fingerprint:
        raise InvalidData(
            {HEADER: [_("This Idempotency-Key was already used with a different request.")]}
        )
    if record.status_code is None:  # pragma: no cover - only if a row was committed unfinished
        raise StateConflict(_("A request with this Idempotency-Key is still being processed."))
    body = json.loads(record.response_body) if record.response_body else None
    return Response(body, status=record.status_code, headers={REPLAY_HEADER: "true"})


def _remember(key: str, response: Response) -> None:
    IdempotencyKey.objects.filter(key=key).update(
        status_code=response.status_code,
        response_body=json.dumps(response.data, cls=JSONEncoder)
        if response.data is not None
        else "",
    )


def run_idempotently(request: Request, create: Callable[[], Response]) -> Response:
    """Run ``create`` once per ``Idempotency-Key``; without the header, just run it."""
    key = request.headers.get(HEADER)
    if key is None:
        return create()
    if not KEY_PATTERN.match(key):
        raise InvalidData(
            {HEADER: [_("The Idempotency-Key must be 1 to 255 visible ASCII characters.")]}
        )
    fingerprint = request_fingerprint(request.method or "", request.path, request.data)
    with transaction.atomic():
        if not _claim(key, fingerprint, timezone.now()):
            return _replay(key, fingerprint)
        response = create()
        if 200 <= response.status_code < 300:
            _remember(key, response)
        else:
            # Nothing was created; forget the key so a corrected retry is not refused.
            transaction.set_rollback(True)
    return response


def idempotent(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """Decorator for a view(set) method that creates something (``def create(self, request)``)."""

    @functools.wraps(view_method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        return run_idempotently(request, lambda: view_method(self, request, *args, **kwargs))

    return wrapper
