"""A database outage, in process, on real PostgreSQL and a real libpq: every request that needs
the database gets the JSON 503 with Retry-After; a cached /me does not need it; one log line per
incident; nothing half-written when a backend dies inside a transaction.

The outage: requests run in a thread whose connection points at a loopback port nobody listens
on (libpq's own "connection refused"), or whose backend is killed with ``pg_terminate_backend``
mid-transaction (PostgreSQL's 57P01). The test's own connection and transaction stay untouched.
The same, against a PostgreSQL really stopped under gunicorn: tests/faults/test_postgres_stopped.py.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import timezone
from django_tenants.utils import tenant_context

from procurement.models import PurchaseOrder, PurchaseOrderCounter, PurchaseOrderItem
from procurement.services import department_create, vendor_create
from tenancy.models import Tenant
from tenancy.services import tenant_create
from tests.conftest import ApiClient, issue_token
from tests.own_connection import on_own_connection
from tests.tokens.settings_helpers import ADMIN_EMAIL, ADMIN_PASSWORD, log_in, make_user
from tokens.activity.buffer import buffer as activity_buffer
from tokens.lookup import token_cache
from waqti.api.errors import json_server_error
from waqti.api.models import IdempotencyKey
from waqti.api.serializers import utc_timestamp
from waqti.database_outage import RETRY_AFTER_SECONDS, outage

UNAVAILABLE = {"message": "Service temporarily unavailable.", "errors": {}}


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == UNAVAILABLE
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


@pytest.fixture
def incident_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """A fresh per-process outage state; captures every logger from INFO."""
    outage.reset()
    caplog.set_level(logging.INFO)
    yield caplog
    outage.reset()


def incident_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "waqti.database"]


def test_outage_every_path_needing_the_database_is_503_and_cached_me_is_served(acme, incident_log):
    token = issue_token(acme, ["read", "write"])
    make_user(acme, ADMIN_EMAIL)
    me = ApiClient("acme.localhost", token)
    assert me.get("/api/v1/me").status_code == 200  # caches the host and the token
    # This worker last wrote last_used_at two minutes ago: /me would write it now.
    token_id = int(token.split("|")[0])
    two_minutes_ago = timezone.now() - timedelta(minutes=2)
    with tenant_context(acme):
        token_cache.note_used(token_id, two_minutes_ago)
    browser = Client(HTTP_HOST="acme.localhost")
    assert log_in(browser).status_code == 302
    session_cookie = browser.cookies["sessionid"].value

    def during_outage() -> dict[str, Any]:
        # raise_request_exception: an outage reaching Django's uncaught-exception path would be
        # re-raised here rather than answered.
        def client(host: str) -> Client:
            made = Client(HTTP_HOST=host, raise_request_exception=True)
            made.cookies["sessionid"] = session_cookie
            return made

        auth = {"Authorization": f"Bearer {token}"}
        acme_client = client("acme.localhost")
        return {
            "me": acme_client.get("/api/v1/me", headers=auth),
            "me again": acme_client.get("/api/v1/me", headers=auth),
            "list": acme_client.get("/api/v1/purchase-orders", headers=auth),
            "create": acme_client.post(
                "/api/v1/vendors", {"name": "x"}, content_type="application/json", headers=auth
            ),
            "arabic": acme_client.get(
                "/api/v1/purchase-orders", headers={**auth, "Accept-Language": "ar"}
            ),
            "uncached host": client("globex.localhost").get("/api/v1/me", headers=auth),
            "settings page": acme_client.get("/settings/api/"),
            "tenant admin": acme_client.get("/admin/"),
            "settings login": Client(HTTP_HOST="acme.localhost").post(
                "/settings/login/", {"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
            ),
            "admin login": Client(HTTP_HOST="acme.localhost").post(
                "/admin/login/", {"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
            ),
            "operators admin": Client(HTTP_HOST="localhost").get("/admin/"),
            "health": acme_client.get("/health"),
        }

    pending_before = activity_buffer.pending
    answers = on_own_connection(during_outage, refused=True)

    for name in ("me", "me again"):
        assert answers[name].status_code == 200, name
        assert answers[name].json()["data"]["last_used_at"] == utc_timestamp(two_minutes_ago)
    for name in ("list", "create", "uncached host", "settings page", "tenant admin"):
        assert_unavailable(answers[name])
    for name in ("settings login", "admin login", "operators admin"):
        assert_unavailable(answers[name])
    assert answers["arabic"].status_code == 503
    assert answers["arabic"].json() == {"message": "الخدمة غير متاحة مؤقتًا.", "errors": {}}
    assert answers["health"].status_code == 503
    assert answers["health"].json() == {"status": "error", "database": "error", "cache": "ok"}

    # Logged once, as one line, without a traceback; nothing from django.request.
    assert len(incident_lines(incident_log)) == 1
    assert incident_lines(incident_log)[0].startswith(
        f"database unavailable in pid {os.getpid()} (OperationalError: "
    )
    assert not [r for r in incident_log.records if r.name == "django.request"]
    assert not [r for r in incident_log.records if r.exc_info]

    # The activity log kept what it could not write (the API requests of acme).
    recorded = activity_buffer.pending - pending_before
    assert recorded == 5
    assert on_own_connection(activity_buffer.flush, refused=True) == 0
    assert activity_buffer.pending - pending_before == recorded
    assert len(incident_lines(incident_log)) == 1

    # The database is back: the next request succeeds by itself and ends the incident.
    health = on_own_connection(lambda: Client(HTTP_HOST="localhost").get("/health"))
    assert health.status_code == 200
    lines = incident_lines(incident_log)
    assert len(lines) == 2
    assert lines[1].startswith(f"database available again in pid {os.getpid()} after ")
    assert lines[1].endswith("; 10 requests were answered 503")
    assert activity_buffer.flush() >= recorded  # written now (in this test's transaction)


def test_outage_a_query_error_is_still_a_500_with_its_traceback(acme, incident_log):
    token = issue_token(acme, ["read"])

    def missing_table(execute, sql, params, many, context):
        return execute(
            sql.replace('"procurement_purchaseorder"', '"no_such_table"'), params, many, context
        )

    with connection.execute_wrapper(missing_table):
        response = ApiClient("acme.localhost", token).get("/api/v1/purchase-orders")
    assert response.status_code == 500
    assert response.json() == {"message": "Server error.", "errors": {}}
    logged = [r for r in incident_log.records if r.exc_info]
    assert logged and isinstance(logged[0].exc_info[1].__cause__, psycopg.errors.UndefinedTable)
    assert incident_lines(incident_log) == []


def test_outage_raised_outside_any_view_is_answered_503_by_the_500_handler(db, incident_log):
    def refused_error() -> BaseException:
        try:
            connection.ensure_connection()
        except Exception as exc:
            return exc
        raise AssertionError("the connection should have been refused")

    error = on_own_connection(refused_error, refused=True)
    request = RequestFactory().get("/settings/api/")
    try:
        raise error
    except Exception:
        response = json_server_error(request)
    assert_unavailable(response)
    try:
        raise ValueError("a bug")
    except ValueError:
        assert json_server_error(request).status_code == 500


# --- A backend killed inside the purchase-order transaction ---------------------------------------

OUTAGE_SLUG = "outage-co"
OUTAGE_HOST = "outage-co.localhost"


@pytest.fixture(scope="module")
def outage_tenant(django_db_setup: None, django_db_blocker: Any) -> Iterator[Tenant]:
    """A tenant of this module's own, on connections that commit (the request's backend is
    killed, so its writes must be visible, or not, to other connections)."""

    def drop_leftover() -> None:
        stale = Tenant.objects.filter(slug=OUTAGE_SLUG).first()
        if stale is not None:
            stale.delete(force_drop=True)

    def create() -> Tenant:
        drop_leftover()
        tenant = tenant_create(
            slug=OUTAGE_SLUG, name="Outage Co", domains=[OUTAGE_HOST], plan="ultimate"
        )
        with tenant_context(tenant):
            vendor_create(name="Al Noor Supplies")
            department_create(name="IT", code="IT")
        return tenant

    with django_db_blocker.unblock():
        tenant = on_own_connection(create)
        try:
            yield tenant
        finally:
            on_own_connection(drop_leftover)


def _terminate_before(statement: str, killer: psycopg.Connection) -> Callable[..., Any]:
    """An execute wrapper that, right before the first query starting with ``statement``, has
    PostgreSQL terminate this connection's backend (from ``killer``), then lets the query run
    into it."""
    done: list[int] = []

    def wrapper(execute, sql, params, many, context):
        if not done and sql.startswith(statement):
            pid = context["connection"].connection.info.backend_pid
            killer.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
            done.append(pid)
        return execute(sql, params, many, context)

    return wrapper


def killing_before(statement: str, send: Callable[[], Any]) -> Any:
    """``send()`` with this thread's backend terminated right before ``statement`` runs."""
    params = {k: v for k, v in connection.get_connection_params().items() if k != "context"}
    with (
        psycopg.connect(**params, autocommit=True) as killer,
        connection.execute_wrapper(_terminate_before(statement, killer)),
    ):
        return send()


def test_outage_in_djangos_session_middleware_is_503_without_a_traceback(
    db, outage_tenant, incident_log
):
    """The login's view succeeds; Django's SessionMiddleware then saves the session (an UPDATE
    in its process_response, outside any view) into a terminated backend."""
    email = "outage-admin@example.com"
    on_own_connection(lambda: make_user(outage_tenant, email))

    def log_in() -> Any:
        client = Client(HTTP_HOST=OUTAGE_HOST)
        return killing_before(
            'UPDATE "django_session"',
            lambda: client.post(
                "/settings/login/", {"username": email, "password": ADMIN_PASSWORD}
            ),
        )

    assert_unavailable(on_own_connection(log_in))
    lines = incident_lines(incident_log)
    assert len(lines) == 1
    assert "AdminShutdown" in lines[0] or "OperationalError" in lines[0]
    assert not [r for r in incident_log.records if r.name == "django.request"]
    assert not [r for r in incident_log.records if r.exc_info]


def test_outage_inside_a_po_create_leaves_nothing_written_and_the_retry_succeeds(
    db, outage_tenant, incident_log
):
    token = on_own_connection(lambda: issue_token(outage_tenant, ["read", "write"]))

    def ids() -> tuple[int, int]:
        with tenant_context(outage_tenant):
            from procurement.models import Department, Vendor

            return Vendor.objects.get().pk, Department.objects.get().pk

    vendor_id, department_id = on_own_connection(ids)
    body = {
        "vendor_id": vendor_id,
        "department_id": department_id,
        "items": [
            {"description": "Laptop", "quantity": 3, "unit_price": "33.335"},
            {"description": "Dock", "quantity": 2, "unit_price": 450},
        ],
    }
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "po-outage-1"}

    def create(*, kill: bool) -> Any:
        client = Client(HTTP_HOST=OUTAGE_HOST, raise_request_exception=True)

        def post() -> Any:
            return client.post(
                "/api/v1/purchase-orders", body, content_type="application/json", headers=headers
            )

        if not kill:
            return post()
        # Between the order's header (and its number) and its lines.
        return killing_before('INSERT INTO "procurement_purchaseorderitem"', post)

    assert_unavailable(on_own_connection(lambda: create(kill=True)))
    assert len(incident_lines(incident_log)) == 1

    def stored() -> dict[str, int]:
        with tenant_context(outage_tenant):
            return {
                "orders": PurchaseOrder.objects.count(),
                "items": PurchaseOrderItem.objects.count(),
                "numbers used": sum(c.last_number for c in PurchaseOrderCounter.objects.all()),
                "idempotency keys": IdempotencyKey.objects.count(),
            }

    nothing = {"orders": 0, "items": 0, "numbers used": 0, "idempotency keys": 0}
    assert on_own_connection(stored) == nothing

    retried = on_own_connection(lambda: create(kill=False))
    assert retried.status_code == 201, retried.content
    assert retried.json()["data"]["po_number"].endswith("-0001")  # the number was not used up
    assert len(retried.json()["data"]["items"]) == 2
    assert on_own_connection(stored) == {
        "orders": 1,
        "items": 2,
        "numbers used": 1,
        "idempotency keys": 1,
    }
    assert incident_lines(incident_log)[-1].endswith("; 1 requests were answered 503")
