"""The API activity log: what a request records, and what the Settings page reads of it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.helpers import issue_token
from tests.tokens.activity_helpers import flushed_rows, token_id_of
from tokens.activity import log as activity_log
from tokens.activity.buffer import buffer as activity_buffer
from tokens.models import ApiToken
from tokens.services import Actor, token_regenerate, token_revoke

SECRET = "A" * 40


@pytest.fixture
def admin(db, api, acme):
    return api(acme, issue_token(acme, ["admin"], name="Auditor"))


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
