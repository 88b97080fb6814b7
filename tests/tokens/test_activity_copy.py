"""The activity log's COPY writer: awkward values round-trip exactly; errors stay Django's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection
from django_tenants.utils import tenant_context

from tokens.activity.buffer import ActivityBuffer
from tokens.activity.capture import LogEntry
from tokens.activity.models import LOG_FIELDS
from tokens.activity.rows import copy_rows
from tokens.models import ApiRequestLog


def awkward(**fields) -> LogEntry:
    values = {
        "schema_name": "t_acme_corp",
        "occurred_at": datetime(2025, 3, 1, 23, 59, 59, 123456, tzinfo=UTC),
        "token_id": None,
        "token_name": "tab\tnew\nline back\\slash \"quote\" 'single' عربي",
        "method": "PATCH",
        "path": "/api/v1/vendors/\\N",
        "query_string": "search=a%09b&x=\\.",
        "status": 429,
        "duration_ms": 0.001,
        "ip_address": None,
        "user_agent": "\\N",
        "request_id": "r-\r-1",
    }
    values.update(fields)
    return LogEntry(**values)


def test_copy_writes_awkward_values_exactly(db, acme):
    entries = [awkward(), awkward(ip_address="2001:db8::1", token_id=2**63 - 1, user_agent="")]
    buffer = ActivityBuffer(background=False)
    for item in entries:
        buffer.record(item)
    assert buffer.flush() == 2
    with tenant_context(acme):
        rows = list(ApiRequestLog.objects.order_by("id").values(*LOG_FIELDS))
    connection.set_schema_to_public()
    expected = [{name: getattr(item, name) for name in LOG_FIELDS} for item in entries]
    assert rows == expected


def test_copy_errors_are_django_errors_and_the_batch_is_dropped(db, acme, caplog):
    buffer = ActivityBuffer(background=False)
    buffer.record(awkward(schema_name="t_no_such_schema"))
    buffer.record(awkward(request_id="kept"))
    assert buffer.flush() == 1  # the other schema's batch still lands
    assert buffer.pending == 0
    assert "dropping 1 entries for t_no_such_schema" in caplog.text
    with pytest.raises(DatabaseError), tenant_context(acme), connection.cursor() as cursor:
        cursor.execute("SAVEPOINT probe")
        try:
            copy_rows([awkward(status=-1)])  # violates the positive status check
        finally:
            cursor.execute("ROLLBACK TO SAVEPOINT probe")
    connection.set_schema_to_public()
