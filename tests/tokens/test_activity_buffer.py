"""The activity log's writer: batching, bounds, outages, shutdown, the thread; and retention."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from tests.helpers import issue_token
from tests.live_server import database_url
from tests.tokens.activity_helpers import entry, flushed_rows
from tokens.activity import log as activity_log
from tokens.activity.buffer import ActivityBuffer
from tokens.activity.buffer import buffer as activity_buffer
from tokens.activity.gunicorn_hooks import worker_exit
from tokens.models import ApiRequestLog


def in_fresh_connection(work: Callable[[], Any]) -> Any:
    """Run ``work`` in another thread, so on its own autocommit connection, then close that."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def committed_rows(schema_name: str, request_id: str) -> list[dict[str, Any]]:
    def read() -> list[dict[str, Any]]:
        with schema_context(schema_name):
            return list(ApiRequestLog.objects.filter(request_id=request_id).values())

    return in_fresh_connection(read)


def delete_committed(schema_name: str, request_id: str) -> None:
    def delete() -> None:
        with schema_context(schema_name):
            ApiRequestLog.objects.filter(request_id=request_id).delete()

    in_fresh_connection(delete)


# --- batching, bounds, shutdown, the background thread ------------------------------------------


def test_many_requests_are_written_with_one_copy(db, api, acme):
    token = issue_token(acme, ["read"])
    client = api(acme, token)
    for _ in range(5):
        client.get("/api/v1/me")
    with CaptureQueriesContext(connection) as queries:
        assert activity_buffer.flush() == 5
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "COPY"))]
    assert len(writes) == 1
    assert writes[0].startswith("COPY") and "apirequestlog" in writes[0].lower()
    assert len(flushed_rows(acme)) == 5


def test_flush_writes_each_tenant_into_its_own_schema(db, api, acme, globex):
    api(acme).get("/api/v1/me")
    api(globex).get("/api/v1/me")
    api(globex).get("/api/v1/tokens")
    with CaptureQueriesContext(connection) as queries:
        assert activity_buffer.flush() == 3
    assert len([q for q in queries if q["sql"].lstrip().upper().startswith("COPY")]) == 2
    assert [r.path for r in flushed_rows(acme)] == ["/api/v1/me"]
    assert [r.path for r in flushed_rows(globex)] == ["/api/v1/me", "/api/v1/tokens"]


def test_full_buffer_drops_oldest_and_logs_the_count(db, acme, caplog):
    small = ActivityBuffer(max_entries=3, background=False)
    for number in range(5):
        small.record(entry(request_id=f"r{number}"))
    assert (small.pending, small.dropped) == (3, 2)
    with caplog.at_level("WARNING", logger="waqti.activity"):
        assert small.flush() == 3
    assert "dropped the 2 oldest" in caplog.text
    with tenant_context(acme):
        assert sorted(ApiRequestLog.objects.values_list("request_id", flat=True)) == [
            "r2",
            "r3",
            "r4",
        ]


def test_database_outage_keeps_entries_for_the_next_flush(db, acme, monkeypatch):
    buffer = ActivityBuffer(max_entries=10, background=False)
    buffer.record(entry(request_id="during-outage"))

    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("connection refused")

    with monkeypatch.context() as patched:
        patched.setattr("tokens.activity.buffer.copy_rows", unreachable)
        assert buffer.flush() == 0
    assert buffer.pending == 1
    buffer.record(entry(request_id="after-outage"))
    assert buffer.flush() == 2
    with tenant_context(acme):
        assert ApiRequestLog.objects.count() == 2


def test_worker_exit_hook_writes_everything_still_buffered(db, api, acme):
    for _ in range(3):
        api(acme).get("/api/v1/me")
    assert activity_buffer.pending == 3
    worker_exit(server=None, worker=None)
    assert activity_buffer.pending == 0
    with tenant_context(acme):
        assert ApiRequestLog.objects.count() == 3


def test_background_thread_writes_on_its_own_connection(db, acme):
    """Tenants are committed once per session, so a committed row from the thread is visible."""
    request_id = f"bg-{uuid.uuid4().hex}"
    buffer = ActivityBuffer(flush_interval=0.05, background=True)
    try:
        buffer.record(entry(request_id=request_id))  # starts the thread
        assert buffer.wait_until_written(1, timeout=10)
        assert [row["status"] for row in committed_rows("t_acme_corp", request_id)] == [200]
    finally:
        buffer.stop()
        delete_committed("t_acme_corp", request_id)
    assert buffer.pending == 0


def test_normal_process_exit_writes_the_buffer(db, acme):
    """A real process with the thread on and a long interval: only the exit flush can write."""
    request_id = f"exit-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict["NAME"]),
        "WAQTI_ACTIVITY_BACKGROUND_FLUSH": "1",
        "WAQTI_ACTIVITY_FLUSH_SECONDS": "60",
        "DJANGO_SETTINGS_MODULE": "waqti.settings",
    }
    script = (
        "import django; django.setup()\n"
        "from datetime import datetime, UTC\n"
        "from tokens.activity.buffer import buffer\nfrom tokens.activity.capture import LogEntry\n"
        "buffer.record(LogEntry('t_acme_corp', datetime.now(UTC), None, '', 'GET', '/api/v1/me',"
        f" '', 401, 1.0, '127.0.0.1', 'exit-test', {request_id!r}))\n"
        "assert buffer._thread is not None and buffer._thread.is_alive()\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert [row["user_agent"] for row in committed_rows("t_acme_corp", request_id)] == [
            "exit-test"
        ]
    finally:
        delete_committed("t_acme_corp", request_id)


# --- retention -----------------------------------------------------------------------------------


def run_prune(*args: str) -> str:
    out = StringIO()
    call_command("prune_api_logs", *args, stdout=out)
    connection.set_schema_to_public()
    return out.getvalue()


def test_prune_deletes_only_entries_past_retention_in_every_tenant(db, acme, globex, settings):
    now = timezone.now()
    for schema_name in ("t_acme_corp", "t_globex"):
        activity_buffer.record(
            entry(schema_name, request_id="old", occurred_at=now - timedelta(days=91))
        )
        activity_buffer.record(
            entry(schema_name, request_id="kept", occurred_at=now - timedelta(days=89))
        )
    activity_buffer.record(
        entry("t_acme_corp", request_id="older", occurred_at=now - timedelta(days=400))
    )
    activity_buffer.flush()
    output = run_prune()
    assert "acme-corp: pruned 2 entries" in output
    assert "globex: pruned 1 entries" in output
    assert "initech: pruned 0 entries" in output
    assert output.strip().endswith("Pruned 3 API log entries older than 90 days across 3 tenants.")
    for tenant in (acme, globex):
        with tenant_context(tenant):
            assert list(ApiRequestLog.objects.values_list("request_id", flat=True)) == ["kept"]


def test_prune_honours_the_setting_and_the_option(db, acme, settings):
    now = timezone.now()
    activity_buffer.record(entry(request_id="ten-days", occurred_at=now - timedelta(days=10)))
    activity_buffer.record(entry(request_id="two-days", occurred_at=now - timedelta(days=2)))
    activity_buffer.flush()
    settings.WAQTI_API_LOG_RETENTION_DAYS = 30
    assert "Pruned 0 API log entries older than 30 days" in run_prune()
    assert "Pruned 1 API log entries older than 7 days" in run_prune("--older-than-days", "7")
    with tenant_context(acme):
        assert list(ApiRequestLog.objects.values_list("request_id", flat=True)) == ["two-days"]


def test_prune_works_in_chunks(db, acme):
    now = timezone.now()
    for number in range(5):
        activity_buffer.record(
            entry(request_id=f"old-{number}", occurred_at=now - timedelta(days=100))
        )
    activity_buffer.flush()
    with tenant_context(acme):
        assert activity_log.api_logs_prune(older_than_days=90, chunk_size=2) == 5
        assert ApiRequestLog.objects.count() == 0


def test_prune_rejects_a_non_positive_age(db):
    with pytest.raises(CommandError, match="positive"):
        call_command("prune_api_logs", "--older-than-days", "0")
