"""The API activity log: what requests record, batching, shutdown, the list API, pruning."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from tenancy.models import Tenant
from tests.helpers import UNAUTHENTICATED, forbidden, issue_token
from tests.live_server import database_url
from tokens.activity import log as activity_log
from tokens.activity.buffer import ActivityBuffer
from tokens.activity.buffer import buffer as activity_buffer
from tokens.activity.capture import LogEntry
from tokens.activity.gunicorn_hooks import worker_exit
from tokens.models import ApiRequestLog, ApiToken
from tokens.services import Actor, token_regenerate, token_revoke

SECRET = "A" * 40
LOG_FIELDS = [
    "id",
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
]
INVALID = "The given data was invalid."


@pytest.fixture(autouse=True)
def _empty_buffer() -> Iterator[None]:
    """Other test modules make API requests without flushing; start and end with none queued."""
    activity_buffer.discard()
    yield
    activity_buffer.discard()


@pytest.fixture
def admin(db, api, acme):
    return api(acme, issue_token(acme, ["admin"], name="Auditor"))


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


# --- what a request records ----------------------------------------------------------------------


def test_request_is_recorded_with_every_field(db, api, acme):
    token = issue_token(acme, ["read"], name="ERP sync")
    before = timezone.now()
    response = api(acme, token).get(
        "/api/v1/me", headers={"User-Agent": "erp-sync/2.1", "X-Request-ID": "erp-42"}, page="2"
    )
    after = timezone.now()
    assert response.status_code == 200
    [row] = flushed_rows(acme)
    assert row.token_id == token_id_of(token)
    assert row.token_name == "ERP sync"
    assert (row.method, row.path, row.query_string, row.status) == (
        "GET",
        "/api/v1/me",
        "page=2",
        200,
    )
    assert (row.ip_address, row.user_agent, row.request_id) == (
        "127.0.0.1",
        "erp-sync/2.1",
        "erp-42",
    )
    assert before <= row.occurred_at <= after
    assert 0 < row.duration_ms < (after - before).total_seconds() * 1000 + 1


def test_request_sends_no_query_to_the_log_table(db, api, acme):
    token = issue_token(acme, ["read"])
    with CaptureQueriesContext(connection) as queries:
        api(acme, token).get("/api/v1/me")
    assert not [q for q in queries if "apirequestlog" in q["sql"].lower()]
    assert activity_buffer.pending == 1


def test_failed_token_records_the_claimed_id_without_a_name(db, api, acme):
    response = api(acme, f"4242|{SECRET}").get("/api/v1/me")
    assert response.status_code == 401
    [row] = flushed_rows(acme)
    assert (row.token_id, row.token_name, row.status) == (4242, "", 401)


def test_missing_or_malformed_token_records_no_token(db, api, acme):
    api(acme).get("/api/v1/me")
    api(acme, "not-a-token").get("/api/v1/me")
    assert [(r.token_id, r.status) for r in flushed_rows(acme)] == [(None, 401), (None, 401)]


def test_forbidden_request_is_recorded_with_its_token(db, api, acme):
    token = issue_token(acme, ["read"], name="Reader")
    assert api(acme, token).delete("/api/v1/tokens/1").status_code == 403
    [row] = flushed_rows(acme)
    assert (row.token_id, row.token_name, row.method, row.status) == (
        token_id_of(token),
        "Reader",
        "DELETE",
        403,
    )


def test_not_found_requests_are_recorded(db, api, acme):
    token = issue_token(acme, ["admin"], name="Admin")
    client = api(acme, token)
    assert client.get("/api/v1/tokens/999999").status_code == 404
    assert client.get("/api/v1/no-such-resource").status_code == 404  # no view authenticated it
    rows = flushed_rows(acme)
    assert [(r.path, r.token_id, r.status) for r in rows] == [
        ("/api/v1/tokens/999999", token_id_of(token), 404),
        ("/api/v1/no-such-resource", token_id_of(token), 404),
    ]


def test_plan_rate_limit_refusal_is_recorded(db, api, acme, settings):
    settings.WAQTI_RATE_LIMITS = {**settings.WAQTI_RATE_LIMITS, "professional": (1, None)}
    token = issue_token(acme, ["read"])
    client = api(acme, token)
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/me").status_code == 429
    assert [(r.token_id, r.status) for r in flushed_rows(acme)] == [
        (token_id_of(token), 200),
        (token_id_of(token), 429),
    ]


def test_failure_guard_refusal_is_recorded_with_claimed_id(db, api, acme, settings):
    settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE = 1
    client = api(acme, f"77|{SECRET}")
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 429
    assert [(r.token_id, r.status) for r in flushed_rows(acme)] == [(77, 401), (77, 429)]


def test_requests_outside_tenant_api_are_not_recorded(db, api, acme):
    token = issue_token(acme, ["admin"])
    api(acme).get("/health")
    api(acme).get("/admin/login/")
    api(acme, token).get("/api/v1-not/me")
    api("localhost", token).get("/api/v1/me")  # the public host has no API
    api("nowhere.localhost", token).get("/api/v1/me")  # unknown host
    assert activity_buffer.pending == 0
    assert flushed_rows(acme) == []


def test_secrets_never_reach_the_log(db, api, acme):
    token = issue_token(acme, ["admin"], name="Leaky client")
    secret = token.split("|")[1]
    client = api(acme, token)
    client.get("/api/v1/me", token=token, api_key=secret, page="1")
    client.get(f"/api/v1/tokens/{token}")
    client.get("/api/v1/me", headers={"Authorization": f"Bearer 5|{secret}"})
    client.get("/api/v1/me", headers={"User-Agent": f"script (token {token})"})
    rows = flushed_rows(acme)
    assert len(rows) == 4
    for row in rows:
        stored = " ".join(str(value) for value in row.__dict__.values())
        assert secret not in stored
        assert "Bearer" not in stored
    assert rows[0].query_string == "token=[redacted]&api_key=[redacted]&page=1"
    assert rows[1].path == f"/api/v1/tokens/{token_id_of(token)}|[redacted]"
    assert rows[2].token_id == 5
    assert rows[3].user_agent == f"script (token {token_id_of(token)}|[redacted])"


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


# --- GET /api/v1/api-logs ------------------------------------------------------------------------


@pytest.fixture
def seeded(db):
    """Four past requests, recorded through the buffer (the list flushes it first)."""
    for kwargs in (
        {
            "token_id": 7,
            "method": "GET",
            "status": 200,
            "occurred_at": datetime(2025, 1, 1, 10, tzinfo=UTC),
        },
        {
            "token_id": 7,
            "method": "POST",
            "status": 201,
            "occurred_at": datetime(2025, 1, 2, 10, tzinfo=UTC),
        },
        {
            "token_id": 8,
            "method": "GET",
            "status": 404,
            "occurred_at": datetime(2025, 1, 3, 10, tzinfo=UTC),
        },
        {
            "token_id": None,
            "token_name": "",
            "method": "DELETE",
            "status": 401,
            "occurred_at": datetime(2025, 1, 4, 10, tzinfo=UTC),
        },
    ):
        activity_buffer.record(entry(request_id=f"{kwargs['method']}-{kwargs['status']}", **kwargs))


def get_logs(client: Any, **query: str) -> Any:
    """``method`` is also an ApiClient argument, so the query string is built here."""
    return client.get(f"/api/v1/api-logs?{urlencode(query)}")


def listed(client: Any, **query: str) -> list[str]:
    response = get_logs(client, **query)
    assert response.status_code == 200, response.json()
    return [row["request_id"] for row in response.json()["data"]]


def test_api_logs_lists_newest_first_with_exact_fields(admin, seeded):
    response = admin.get("/api/v1/api-logs")
    assert response.status_code == 200
    body = response.json()
    assert [row["request_id"] for row in body["data"]] == [
        "DELETE-401",
        "GET-404",
        "POST-201",
        "GET-200",
    ]
    first = body["data"][0]
    assert list(first) == LOG_FIELDS
    assert first | {"id": 0} == {
        "id": 0,
        "occurred_at": "2025-01-04T10:00:00Z",
        "token_id": None,
        "token_name": "",
        "method": "DELETE",
        "path": "/api/v1/vendors",
        "query_string": "",
        "status": 401,
        "duration_ms": 4.5,
        "ip_address": "10.0.0.1",
        "user_agent": "erp/1.0",
        "request_id": "DELETE-401",
    }


def test_api_logs_lists_the_listing_request_too(admin, acme):
    admin.get("/api/v1/api-logs", headers={"X-Request-ID": "first-look"})
    data = admin.get("/api/v1/api-logs").json()["data"]
    assert [(row["request_id"], row["token_name"], row["status"]) for row in data] == [
        ("first-look", "Auditor", 200)
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"token_id": "7"}, ["POST-201", "GET-200"]),
        ({"status": "404"}, ["GET-404"]),
        ({"method": "get"}, ["GET-404", "GET-200"]),
        ({"from": "2025-01-02T10:00:00Z", "to": "2025-01-03T10:00:00Z"}, ["GET-404", "POST-201"]),
        ({"from": "2025-01-03T12:00:00+03:00"}, ["DELETE-401", "GET-404"]),
        ({"to": "2025-01-01T10:00:00"}, ["GET-200"]),
        ({"token_id": "7", "method": "POST", "status": "201"}, ["POST-201"]),
        ({"status": ""}, ["DELETE-401", "GET-404", "POST-201", "GET-200"]),
    ],
)
def test_api_logs_filters(admin, seeded, query, expected):
    assert listed(admin, **query) == expected


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"token_id": "abc"}, {"token_id": ["A valid integer is required."]}),
        ({"token_id": "0"}, {"token_id": ["Ensure this value is greater than or equal to 1."]}),
        ({"status": "99"}, {"status": ["Ensure this value is greater than or equal to 100."]}),
        ({"status": "2xx"}, {"status": ["A valid integer is required."]}),
        ({"method": "FETCH"}, {"method": ['"FETCH" is not a valid choice.']}),
        (
            {"from": "yesterday"},
            {
                "from": [
                    "Datetime has wrong format. Use one of these formats instead: "
                    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                ]
            },
        ),
        (
            {"to": "2025-13-01T00:00:00Z"},
            {
                "to": [
                    "Datetime has wrong format. Use one of these formats instead: "
                    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                ]
            },
        ),
        (
            {"from": "2025-01-02T00:00:00Z", "to": "2025-01-01T00:00:00Z"},
            {"to": ["The to time must not be before from."]},
        ),
    ],
)
def test_api_logs_bad_filter_is_422(admin, query, errors):
    response = get_logs(admin, **query)
    assert response.status_code == 422
    assert response.json() == {"message": INVALID, "errors": errors}


def test_api_logs_paginates_with_the_envelope(admin, db):
    for minute in range(20):
        activity_buffer.record(
            entry(
                request_id=f"r{minute:02}", occurred_at=datetime(2025, 1, 1, 10, minute, tzinfo=UTC)
            )
        )
    body = admin.get("/api/v1/api-logs", page="2", per_page="5").json()
    assert [row["request_id"] for row in body["data"]] == ["r14", "r13", "r12", "r11", "r10"]
    assert body["meta"] == {"current_page": 2, "last_page": 4, "per_page": 5, "total": 20}
    base = "http://acme.localhost/api/v1/api-logs?page={}&per_page=5"
    assert body["links"] == {
        "first": base.format(1),
        "last": base.format(4),
        "prev": base.format(1),
        "next": base.format(3),
    }
    assert admin.get("/api/v1/api-logs", page="0").status_code == 422


def test_api_logs_needs_the_admin_ability(db, api, acme):
    for abilities in (["read"], ["read", "write", "delete", "approve"]):
        response = api(acme, issue_token(acme, abilities)).get("/api/v1/api-logs")
        assert response.status_code == 403
        assert response.json() == forbidden("admin")


def test_api_logs_needs_a_valid_token_of_this_tenant(db, api, acme, globex):
    assert api(acme).get("/api/v1/api-logs").json() == UNAUTHENTICATED
    response = api(acme, issue_token(globex, ["admin"])).get("/api/v1/api-logs")
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED


def test_api_logs_show_only_this_tenants_requests(db, api, acme, globex):
    api(acme).get("/api/v1/me", headers={"X-Request-ID": "acme-call"})
    globex_admin = api(globex, issue_token(globex, ["admin"]))
    assert listed(globex_admin) == []


def test_api_logs_is_read_only(admin):
    response = admin.post("/api/v1/api-logs", {})
    assert response.status_code == 405


# --- readers for the Settings page ---------------------------------------------------------------


def test_recent_requests_for_token_include_unflushed_calls(db, api, acme):
    token = issue_token(acme, ["read"])
    other = issue_token(acme, ["read"])
    client = api(acme, token)
    for number in range(3):
        client.get("/api/v1/me", headers={"X-Request-ID": f"call-{number}"})
    api(acme, other).get("/api/v1/me")
    with tenant_context(acme):
        recent = activity_log.recent_requests_for_token(token_id_of(token), limit=2)
    assert [row.request_id for row in recent] == ["call-2", "call-1"]


def test_events_for_token_tell_who_did_what_from_where(admin, acme):
    created = admin.post("/api/v1/tokens", {"name": "Rotating", "abilities": ["read"]}).json()[
        "data"
    ]
    with tenant_context(acme):
        token = ApiToken.objects.get(pk=created["id"])
        token_regenerate(token=token, actor=Actor(label="cli:ops", ip_address="10.1.2.3"))
    assert admin.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
    auditor = token_id_of(admin.token)
    with tenant_context(acme):
        events = activity_log.events_for_token(created["id"])
    assert [(e.kind, e.actor_label, e.ip_address, e.actor_token_id) for e in events] == [
        ("revoked", f"token:{auditor}", "127.0.0.1", auditor),
        ("regenerated", "cli:ops", "10.1.2.3", None),
        ("created", f"token:{auditor}", "127.0.0.1", auditor),
    ]


def test_revoked_tokens_history_stays_readable(admin, api, acme):
    created = admin.post("/api/v1/tokens", {"name": "Short-lived", "abilities": ["read"]}).json()[
        "data"
    ]
    api(acme, created["token"]).get("/api/v1/me")
    with tenant_context(acme):
        token_revoke(token=ApiToken.objects.get(pk=created["id"]), actor=Actor(label="tests"))
    api(acme, created["token"]).get("/api/v1/me")
    statuses = [
        row["status"]
        for row in admin.get("/api/v1/api-logs", token_id=str(created["id"])).json()["data"]
    ]
    assert statuses == [401, 200]


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
