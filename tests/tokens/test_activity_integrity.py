"""The activity log keeps every valid entry whatever its neighbours hold (issue 11, item 5)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from django.db import DataError, OperationalError, connection
from django.test import Client
from django_tenants.utils import tenant_context

from tenancy.models import Tenant
from tests.helpers import issue_token
from tests.tokens.activity_helpers import entry as log_entry
from tokens.activity.buffer import ActivityBuffer
from tokens.activity.buffer import buffer as activity_buffer
from tokens.activity.capture import REPLACEMENT, TRUNCATED, LogEntry, storable
from tokens.models import ApiRequestLog

# (path, raw QUERY_STRING or None, extra headers): what a hostile client can put in a request.
HOSTILE: list[tuple[str, str | None, dict[str, str]]] = [
    ("/api/v1/%00", None, {}),  # the reported request: a NUL in the decoded path
    ("/api/v1/me", "q=a\x00b", {}),  # a raw NUL in the query string
    ("/api/v1/me", "q=a\ud800b", {}),  # a lone surrogate in the query string
    ("/api/v1/me", None, {"User-Agent": "bot\x00/1.0"}),
    ("/api/v1/me", None, {"User-Agent": "bot\udfff/1.0"}),
    ("/api/v1/" + "p" * 3000, None, {}),  # longer than the path column (2048)
    ("/api/v1/me", None, {"User-Agent": "u" * 600}),  # longer than the user agent column (512)
    ("/api/v1/%00", "x=\x00\ud800", {"User-Agent": "\x00\ud800", "X-Request-ID": "id\x00"}),
    ("/api/v1/me", None, {"X-Request-ID": "\ud800"}),  # replaced by a generated id
    ("/api/v1/me", None, {"X-Request-ID": "r" * 500}),  # replaced by a generated id
    ("/api/v1/me%ED%A0%80", "%ED%A0%80=%00", {}),  # percent-encoded forms stay as they came
]


def send(tenant_host: str, path: str, query_string: str | None, headers: dict[str, str]) -> int:
    """One GET as a WSGI server would hand it over (the raw QUERY_STRING is not re-encoded)."""
    extra: dict[str, Any] = {"HTTP_HOST": tenant_host, "headers": headers}
    if query_string is not None:
        extra["QUERY_STRING"] = query_string
    response = Client(raise_request_exception=False).get(path, **extra)
    connection.set_schema_to_public()
    return response.status_code


def logged_rows(tenant: Tenant) -> list[ApiRequestLog]:
    with tenant_context(tenant):
        rows = list(ApiRequestLog.objects.order_by("id"))
    connection.set_schema_to_public()
    return rows


def test_hostile_requests_never_cost_valid_entries(db, acme, caplog):
    token = issue_token(acme, ["read"], name="ERP")
    valid_ids = []
    for number in range(3 * len(HOSTILE)):
        valid_id = f"valid-{number}"
        status = send(
            "acme.localhost",
            "/api/v1/me",
            "page=1",
            {"Authorization": f"Bearer {token}", "X-Request-ID": valid_id, "User-Agent": "erp"},
        )
        assert status == 200
        valid_ids.append(valid_id)
        path, query_string, headers = HOSTILE[number % len(HOSTILE)]
        send("acme.localhost", path, query_string, {"X-Request-ID": f"h-{number}", **headers})
    assert activity_buffer.pending == 2 * len(valid_ids)

    with caplog.at_level(logging.WARNING, logger="waqti.activity"):
        assert activity_buffer.flush() == 2 * len(valid_ids)
    assert "dropp" not in caplog.text and "refused" not in caplog.text

    rows = logged_rows(acme)
    assert len(rows) == 2 * len(valid_ids)  # every hostile entry is kept too, made storable
    valid = [row for row in rows if row.request_id.startswith("valid-")]
    assert [row.request_id for row in valid] == valid_ids
    assert {(r.path, r.query_string, r.status, r.user_agent) for r in valid} == {
        ("/api/v1/me", "page=1", 200, "erp")
    }
    by_id = {row.request_id: row for row in rows}
    assert by_id["h-0"].path == f"/api/v1/{REPLACEMENT}"
    assert by_id["h-1"].query_string == f"q=a{REPLACEMENT}b"
    assert by_id["h-2"].query_string == f"q=a{REPLACEMENT}b"
    assert by_id["h-3"].user_agent == f"bot{REPLACEMENT}/1.0"
    assert by_id["h-4"].user_agent == f"bot{REPLACEMENT}/1.0"
    assert by_id["h-5"].path == "/api/v1/" + "p" * (2048 - 9) + TRUNCATED
    assert by_id["h-6"].user_agent == "u" * 511 + TRUNCATED
    assert by_id["h-10"].path == "/api/v1/me%ED%A0%80"
    assert by_id["h-10"].query_string == "%ED%A0%80=%00"
    # An insane X-Request-ID is never recorded: the middleware generated one instead.
    generated = [row for row in rows if not row.request_id.startswith(("valid-", "h-"))]
    assert len(generated) == 3 * 3
    assert all(len(row.request_id) == 32 and row.request_id.isalnum() for row in generated)
    assert {row.path for row in generated} >= {f"/api/v1/{REPLACEMENT}", "/api/v1/me"}
    assert {row.user_agent for row in generated} >= {REPLACEMENT * 2}


# --- storable(): the rule, and its cost on ordinary values ---------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "stored"),
    [
        ("/api/v1/me", 2048, "/api/v1/me"),
        ("a\x00b", 10, f"a{REPLACEMENT}b"),
        ("\ud800\udc00", 10, REPLACEMENT * 2),  # a surrogate pair in a str is two lone halves
        ("عربي\x00", 10, f"عربي{REPLACEMENT}"),
        ("abcdef", 6, "abcdef"),
        ("abcdefg", 6, f"abcde{TRUNCATED}"),
        ("\x00" * 8, 4, REPLACEMENT * 3 + TRUNCATED),
        ("", 5, ""),
    ],
)
def test_storable_replaces_what_postgresql_cannot_store_and_marks_truncation(text, limit, stored):
    assert storable(text, limit) == stored
    assert len(stored) <= limit
    stored.encode("utf-8")  # no surrogate left


def test_storable_returns_ordinary_values_untouched():
    text = "/api/v1/purchase-orders/42"
    assert storable(text, 2048) is text


# --- the writer: a refused entry never takes its batch with it ----------------------------------


def entry(request_id: str, **fields: Any) -> LogEntry:
    return log_entry(request_id=request_id, **fields)


def test_entries_the_database_refuses_are_dropped_alone_and_logged_once(db, acme, globex, caplog):
    """Values that bypassed capture (a NUL, a surrogate, a failed check) are isolated by
    splitting the batch; every other entry of both tenants is written, in order."""
    buffer = ActivityBuffer(background=False)
    bad = {
        3: {"path": "/api/v1/\x00"},
        8: {"user_agent": "\ud800"},
        9: {"status": -1},  # violates the column's check constraint
        30: {"query_string": "q=\x00"},
    }
    for number in range(40):
        buffer.record(entry(f"a-{number}", **bad.get(number, {})))
        buffer.record(entry(f"g-{number}", schema_name="t_globex"))
    with caplog.at_level(logging.WARNING, logger="waqti.activity"):
        assert buffer.flush() == 80 - len(bad)
    assert buffer.pending == 0
    assert buffer.rejected == len(bad)
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1
    message = refusals[0].getMessage()
    assert "4 entries for t_acme_corp" in message
    assert "a-3, a-8, a-9, a-30" in message
    assert [r.request_id for r in logged_rows(acme)] == [
        f"a-{n}" for n in range(40) if n not in bad
    ]
    assert [r.request_id for r in logged_rows(globex)] == [f"g-{n}" for n in range(40)]


def test_an_outage_while_isolating_keeps_every_entry_buffered(db, acme, monkeypatch):
    """A data error splits the batch; if the database then goes away, nothing is dropped."""
    buffer = ActivityBuffer(max_entries=100, background=False)
    entries = [entry(f"r-{number}") for number in range(6)]
    for item in entries:
        buffer.record(item)
    calls = []

    def failing(batch: list[LogEntry]) -> None:
        calls.append(len(batch))
        if len(calls) == 1:
            raise DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
        raise OperationalError("connection refused")

    with monkeypatch.context() as patched:
        patched.setattr("tokens.activity.buffer.copy_rows", failing)
        assert buffer.flush() == 0
    assert calls == [6, 3]
    assert (buffer.pending, buffer.rejected, buffer.dropped) == (6, 0, 0)
    assert buffer.flush() == 6  # the database is back: all of them, in order
    assert [r.request_id for r in logged_rows(acme)] == [item.request_id for item in entries]


def test_an_unknown_schema_is_still_dropped_as_one_batch(db, acme, caplog):
    buffer = ActivityBuffer(background=False)
    for number in range(5):
        buffer.record(replace(entry(f"x-{number}"), schema_name="t_no_such_schema"))
    with caplog.at_level(logging.WARNING, logger="waqti.activity"):
        assert buffer.flush() == 0
    assert "dropping 5 entries for t_no_such_schema" in caplog.text
    assert buffer.rejected == 0
