"""Helpers of the activity-log tests: rows as written, entries as captured."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django_tenants.utils import tenant_context

from tenancy.models import Tenant
from tokens.activity.buffer import buffer as activity_buffer
from tokens.activity.capture import LogEntry
from tokens.models import ApiRequestLog


def token_id_of(plaintext: str) -> int:
    return int(plaintext.split("|")[0])


def flushed_rows(tenant: Tenant) -> list[ApiRequestLog]:
    """Write the buffer (in this test's transaction) and return the tenant's rows, oldest first."""
    activity_buffer.flush()
    with tenant_context(tenant):
        rows = list(ApiRequestLog.objects.order_by("id"))
    connection.set_schema_to_public()
    return rows


def entry(schema_name: str = "t_acme_corp", **fields: Any) -> LogEntry:
    values: dict[str, Any] = {
        "schema_name": schema_name,
        "occurred_at": datetime(2025, 1, 1, 10, 0, tzinfo=UTC),
        "token_id": 7,
        "token_name": "ERP",
        "method": "GET",
        "path": "/api/v1/vendors",
        "query_string": "",
        "status": 200,
        "duration_ms": 4.5,
        "ip_address": "10.0.0.1",
        "user_agent": "erp/1.0",
        "request_id": "req",
    }
    values.update(fields)
    return LogEntry(**values)
