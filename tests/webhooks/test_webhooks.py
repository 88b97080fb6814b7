"""Webhooks end to end: the subscriptions API, events queued with their change, signed
deliveries to a real receiver on loopback, retries, disabling, and the addresses refused."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from standardwebhooks.webhooks import Webhook

from tests.helpers import issue_token
from tokens.settings_ui.accounts import tenant_admin_create
from webhooks import delivery, transport
from webhooks.models import Delivery, Subscription

ITEMS = [{"description": "Laptop", "quantity": "2", "unit_price": "4500.00"}]


class Receiver:
    """An HTTP server on 127.0.0.1 answering each POST with the next of ``answers``."""

    def __init__(self, answers: list[int]) -> None:
        self.answers = list(answers)
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.delay_first = 0.0  # seconds the first POST waits before it is answered
        self.closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers.items()), body))
                first = len(receiver.received) == 1
                if receiver.delay_first and first and receiver.closing.wait(receiver.delay_first):
                    return
                code = receiver.answers.pop(0) if receiver.answers else 200
                if code == -1:  # never answer (until the test ends)
                    receiver.closing.wait()
                    return
                if code == 0:  # hang up without answering
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.send_response(code)
                if 300 <= code < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client gone mid-answer (a killed worker) is part of some tests

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/waqti"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def loopback(settings: Any) -> None:
    """Deliveries to 127.0.0.1 over plain HTTP, as in development."""
    settings.DEBUG = True
    settings.WAQTI_WEBHOOKS_ALLOW_LOOPBACK = True


@pytest.fixture
def clients(db: None, api: Any, acme: Any) -> dict[str, Any]:
    sets = {"admin": ["read", "admin"], "erp": ["read", "write"], "checker": ["read", "approve"]}
    return {
        name: api(acme, issue_token(acme, abilities, name=name)) for name, abilities in sets.items()
    }


def subscribe(client: Any, url: str, events: list[str]) -> dict[str, Any]:
    response = client.post("/api/v1/webhooks", {"name": "ERP", "url": url, "events": events})
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def approved_order(clients: dict[str, Any], make: Any, acme: Any) -> int:
    vendor, department = make.vendor(acme), make.department(acme)
    created = clients["erp"].post(
        "/api/v1/purchase-orders",
        {"vendor_id": vendor.pk, "department_id": department.pk, "items": ITEMS},
    )
    order_id = created.json()["data"]["id"]
    assert clients["erp"].post(f"/api/v1/purchase-orders/{order_id}/submit").status_code == 200
    approved = clients["checker"].post(f"/api/v1/purchase-orders/{order_id}/approve")
    assert approved.status_code == 200
    return order_id


def deliveries(acme: Any) -> list[Delivery]:
    with tenant_context(acme):
        found = list(Delivery.objects.order_by("id"))
    connection.set_schema_to_public()
    return found


def attempt(acme: Any, delivery_id: int) -> str:
    with tenant_context(acme):
        outcome = delivery.attempt(delivery_id)
    connection.set_schema_to_public()
    return outcome


def jobs() -> list[tuple[str, dict, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT task_name, args, status FROM procrastinate_jobs WHERE queue_name = 'webhooks' "
            "ORDER BY id"
        )
        return [
            (name, json.loads(args) if isinstance(args, str) else args, status)
            for name, args, status in cursor.fetchall()
        ]


# --- the subscriptions API ------------------------------------------------------------------


def test_admins_create_list_change_and_delete_subscriptions(clients, loopback):
    admin = clients["admin"]
    created = subscribe(admin, "https://erp.example.com/hooks", ["purchase_order.approved"])
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created["is_active"] is True and created["failure_count"] == 0
    url = f"/api/v1/webhooks/{created['id']}"
    shown = admin.get(url).json()["data"]
    assert "secret" not in shown and shown["events"] == ["purchase_order.approved"]
    listed = admin.get("/api/v1/webhooks").json()
    assert [item["id"] for item in listed["data"]] == [created["id"]] and "meta" in listed
    assert "secret" not in listed["data"][0]
    patched = admin.patch(url, {"is_active": False}).json()["data"]
    assert patched["is_active"] is False and patched["url"] == "https://erp.example.com/hooks"
    replaced = admin.put(
        url, {"name": "SAP", "url": "https://sap.example.com/h", "events": ["vendor.created"]}
    ).json()["data"]
    assert (replaced["name"], replaced["events"]) == ("SAP", ["vendor.created"])
    assert admin.delete(url).status_code == 204
    assert admin.get(url).status_code == 404


def test_only_admin_tokens_manage_webhooks(clients):
    for name in ("erp", "checker"):
        refused = clients[name].get("/api/v1/webhooks")
        assert refused.status_code == 403
        assert refused.json()["errors"] == {"ability": ["Token does not have 'admin' ability"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "url": "http://erp.example.com/h", "events": ["vendor.created"]}, "url"),
        ({"name": "x", "url": "https://10.0.0.7/h", "events": ["vendor.created"]}, "url"),
        (
            {"name": "x", "url": "https://169.254.169.254/latest", "events": ["vendor.created"]},
            "url",
        ),
        ({"name": "x", "url": "https://[::ffff:10.0.0.1]/h", "events": ["vendor.created"]}, "url"),
        (
            {"name": "x", "url": "https://u:p@erp.example.com/h", "events": ["vendor.created"]},
            "url",
        ),
        ({"name": "x", "url": "ftp://erp.example.com/h", "events": ["vendor.created"]}, "url"),
        (
            {
                "name": "x",
                "url": "https://erp.example.com/" + "a" * 500,
                "events": ["vendor.created"],
            },
            "url",
        ),
        ({"name": "x", "url": "https://erp.example.com/h", "events": []}, "events"),
        ({"name": "x", "url": "https://erp.example.com/h", "events": ["po.paid"]}, "events"),
        (
            {"name": "x" * 101, "url": "https://erp.example.com/h", "events": ["vendor.created"]},
            "name",
        ),
        ({"url": "https://erp.example.com/h", "events": ["vendor.created"]}, "name"),
    ],
)
def test_bad_subscriptions_are_422_and_nothing_is_stored(clients, acme, body, field):
    response = clients["admin"].post("/api/v1/webhooks", body)
    assert response.status_code == 422, response.json()
    assert [key.split(".")[0] for key in response.json()["errors"]] == [field]
    with tenant_context(acme):
        assert not Subscription.objects.exists()
    connection.set_schema_to_public()


# --- events queued with their change ----------------------------------------------------------


def test_an_approval_queues_one_signed_delivery_with_the_order(clients, make, acme, loopback):
    subscribe(clients["admin"], "https://erp.example.com/h", ["purchase_order.approved"])
    order_id = approved_order(clients, make, acme)
    (queued,) = deliveries(acme)
    assert queued.event_type == "purchase_order.approved" and queued.status == "pending"
    payload = json.loads(queued.body)
    assert set(payload) == {"type", "timestamp", "data"}
    assert payload["type"] == "purchase_order.approved" and payload["timestamp"].endswith("Z")
    shown = clients["checker"].get(f"/api/v1/purchase-orders/{order_id}").json()["data"]
    assert payload["data"] == shown  # the order as the API shows it
    assert jobs() == [
        ("webhooks.deliver", {"schema": acme.schema_name, "delivery_id": queued.pk}, "todo")
    ]


def test_a_rolled_back_change_queues_nothing(clients, make, acme):
    subscribe(clients["admin"], "https://erp.example.com/h", ["vendor.created"])
    from procurement import services

    with tenant_context(acme), pytest.raises(RuntimeError), transaction.atomic():
        services.vendor_create(name="Never")
        raise RuntimeError("the request failed after the change")
    connection.set_schema_to_public()
    assert deliveries(acme) == [] and jobs() == []


def test_events_nobody_subscribed_to_queue_nothing(clients, make, acme):
    subscribe(clients["admin"], "https://erp.example.com/h", ["vendor.updated"])
    approved_order(clients, make, acme)
    assert deliveries(acme) == [] and jobs() == []


# --- deliveries to a real receiver --------------------------------------------------------------


def test_the_receiver_verifies_the_signature_with_standardwebhooks(clients, make, acme, loopback):
    with Receiver([200]) as receiver:
        secret = subscribe(clients["admin"], receiver.url, ["purchase_order.approved"])["secret"]
        approved_order(clients, make, acme)
        (queued,) = deliveries(acme)
        assert attempt(acme, queued.pk) == "succeeded"
    ((headers, body),) = receiver.received
    verified = Webhook(secret).verify(body, headers)
    assert verified["type"] == "purchase_order.approved"
    assert headers["webhook-id"] == queued.message_id
    assert headers["Content-Type"] == "application/json"
    (done,) = deliveries(acme)
    assert (done.status, done.attempts, done.last_status_code) == ("succeeded", 1, 200)
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 43).verify(body, headers)


def test_a_receiver_failing_twice_gets_one_success_after_two_retries(clients, acme, loopback):
    with Receiver([500, 503, 200]) as receiver:
        subscribe(clients["admin"], receiver.url, ["vendor.created"])
        clients["erp"].post("/api/v1/vendors", {"name": "Jarir"})
        (queued,) = deliveries(acme)
        before = timezone.now()
        assert attempt(acme, queued.pk) == "retrying"
        (first,) = deliveries(acme)
        wait = first.next_retry_at - before
        assert timedelta(seconds=3.9) <= wait <= timedelta(seconds=6.1)  # 5 s +/- 20%
        assert attempt(acme, queued.pk) == "retrying"
        assert attempt(acme, queued.pk) == "succeeded"
        assert attempt(acme, queued.pk) == "skipped"  # a stray job finds it settled
    assert len(receiver.received) == 3
    assert len({headers["webhook-id"] for headers, _ in receiver.received}) == 1
    (done,) = deliveries(acme)
    assert (done.status, done.attempts, done.next_retry_at) == ("succeeded", 3, None)
    assert [status for _name, _args, status in jobs()] == ["todo", "todo", "todo"]  # 1 + 2 retries


def test_a_receiver_that_never_answers_times_out_and_is_disabled(clients, acme, loopback, settings):
    settings.WAQTI_WEBHOOK_DISABLE_AFTER = 2
    settings.WAQTI_WEBHOOK_TIMEOUT_SECONDS = 0.3
    with Receiver([-1, -1]) as receiver:
        hook = subscribe(clients["admin"], receiver.url, ["vendor.created"])
        clients["erp"].post("/api/v1/vendors", {"name": "Jarir"})
        (queued,) = deliveries(acme)
        started = time.monotonic()
        assert attempt(acme, queued.pk) == "retrying"
        assert attempt(acme, queued.pk) == "failed"
        assert time.monotonic() - started < 5
    (tried,) = deliveries(acme)
    assert "timed out" in tried.last_error and tried.last_status_code is None
    shown = clients["admin"].get(f"/api/v1/webhooks/{hook['id']}").json()["data"]
    assert (shown["is_active"], shown["failure_count"]) == (False, 2)


def test_a_receiver_that_hangs_up_disables_the_subscription(
    clients, acme, loopback, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.WAQTI_WEBHOOK_DISABLE_AFTER = 3
    with tenant_context(acme):
        tenant_admin_create(email="cto@acme.example", password="x" * 12)
    connection.set_schema_to_public()
    with Receiver([0, 0, 0, 0]) as receiver:
        hook = subscribe(clients["admin"], receiver.url, ["vendor.created", "vendor.updated"])
        vendor = clients["erp"].post("/api/v1/vendors", {"name": "Jarir"}).json()["data"]
        clients["erp"].patch(f"/api/v1/vendors/{vendor['id']}", {"name": "Jarir Bookstore"})
        first, second = deliveries(acme)
        with django_capture_on_commit_callbacks(execute=True):
            assert attempt(acme, first.pk) == "retrying"
            assert attempt(acme, second.pk) == "retrying"
            assert attempt(acme, first.pk) == "failed"  # the third failure in a row
    shown = clients["admin"].get(f"/api/v1/webhooks/{hook['id']}").json()["data"]
    assert (shown["is_active"], shown["failure_count"]) == (False, 3)
    assert {d.status for d in deliveries(acme)} == {"failed"}
    assert attempt(acme, second.pk) == "skipped"
    (mail,) = mailoutbox
    assert mail.to == ["cto@acme.example"] and "disabled" in mail.subject
    enabled = clients["admin"].patch(f"/api/v1/webhooks/{hook['id']}", {"is_active": True})
    assert enabled.json()["data"]["failure_count"] == 0


def test_redirects_are_not_followed(clients, acme, loopback):
    with Receiver([302]) as receiver:
        subscribe(clients["admin"], receiver.url, ["vendor.created"])
        clients["erp"].post("/api/v1/vendors", {"name": "Jarir"})
        (queued,) = deliveries(acme)
        assert attempt(acme, queued.pk) == "retrying"
    assert len(receiver.received) == 1
    (tried,) = deliveries(acme)
    assert (tried.last_status_code, tried.last_error) == (302, "HTTP 302")


def test_ping_deliveries_log_and_redeliver(clients, acme, loopback):
    admin = clients["admin"]
    with Receiver([200, 200]) as receiver:
        hook = subscribe(admin, receiver.url, ["vendor.created"])
        ping = admin.post(f"/api/v1/webhooks/{hook['id']}/test")
        assert ping.status_code == 202 and ping.json()["data"]["event"] == "webhook.test"
        assert attempt(acme, ping.json()["data"]["id"]) == "succeeded"
        log = admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["data"]
        assert [(d["event"], d["status"], d["attempts"], d["status_code"]) for d in log] == [
            ("webhook.test", "succeeded", 1, 200)
        ]
        again = admin.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{log[0]['id']}/redeliver")
        assert again.status_code == 202
        assert again.json()["data"]["webhook_id"] == log[0]["webhook_id"]
        assert attempt(acme, again.json()["data"]["id"]) == "succeeded"
    first, second = receiver.received
    assert first[1] == second[1] and first[0]["webhook-id"] == second[0]["webhook-id"]
    missing = admin.post(f"/api/v1/webhooks/{hook['id']}/deliveries/999999/redeliver")
    assert missing.status_code == 404


# --- addresses refused at connection time ---------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/h", "http://localhost:9/h", "http://[::1]:9/h", "http://10.1.2.3/h"],
)
def test_loopback_and_private_targets_are_refused_before_connecting(settings, url):
    settings.DEBUG = True
    settings.WAQTI_WEBHOOKS_ALLOW_LOOPBACK = False
    with pytest.raises(transport.Refused, match="may not reach"):
        transport.post(url, b"{}", {})


def test_the_setting_admits_loopback_but_never_private_or_metadata_addresses(settings):
    settings.WAQTI_WEBHOOKS_ALLOW_LOOPBACK = True
    assert transport.allowed_address("127.0.0.1") and transport.allowed_address("::1")
    for address in (
        "10.0.0.1",
        "192.168.1.1",
        "172.16.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "::ffff:192.168.1.1",
        "fd00::1",
        "fe80::1",
        "0.0.0.0",  # noqa: S104 - an address refused, not bound
        "224.0.0.1",
    ):
        assert not transport.allowed_address(address), address
    assert transport.allowed_address("8.8.8.8") and transport.allowed_address("2001:4860::8888")


def test_a_subscription_to_a_refused_address_fails_its_delivery_without_connecting(
    clients, acme, settings
):
    settings.DEBUG = True
    subscribe(clients["admin"], "http://localhost:9/h", ["vendor.created"])  # a name: allowed now
    clients["erp"].post("/api/v1/vendors", {"name": "Jarir"})
    (queued,) = deliveries(acme)
    assert attempt(acme, queued.pk) == "retrying"
    (tried,) = deliveries(acme)
    assert "may not reach" in tried.last_error and tried.last_status_code is None


# --- token events ---------------------------------------------------------------------------------


def test_token_events_carry_the_token_as_the_api_shows_it_never_its_secret(clients, acme):
    admin = clients["admin"]
    subscribe(
        admin, "https://erp.example.com/h", ["token.created", "token.regenerated", "token.revoked"]
    )
    created = admin.post("/api/v1/tokens", {"name": "Odoo", "abilities": ["read"]}).json()["data"]
    secret = created["token"].split("|")[1]
    url = f"/api/v1/tokens/{created['id']}"
    assert admin.post(f"{url}/regenerate", {}).status_code == 200
    assert admin.delete(url).status_code in (200, 204)
    sent = [(d.event_type, json.loads(d.body)["data"]) for d in deliveries(acme)]
    assert [event for event, _data in sent] == [
        "token.created",
        "token.regenerated",
        "token.revoked",
    ]
    assert all(data["id"] == created["id"] and data["name"] == "Odoo" for _e, data in sent)
    assert all(secret not in json.dumps(data) and "token" not in data for _e, data in sent)


def test_the_reminders_job_announces_tokens_about_to_stop_working(clients, acme):
    from tokens import reminders

    subscribe(clients["admin"], "https://erp.example.com/h", ["token.expiring"])
    token_id = int(issue_token(acme, ["read"], name="Expiring").split("|")[0])
    now = timezone.now()
    with tenant_context(acme):
        from tokens.models import ApiToken

        ApiToken.objects.filter(pk=token_id).update(expires_at=now + timedelta(days=2))
        assert reminders.remind(now, 7) == 1
        assert reminders.remind(now, 7) == 0  # once per deadline
    connection.set_schema_to_public()
    ((event, data),) = [(d.event_type, json.loads(d.body)["data"]) for d in deliveries(acme)]
    assert event == "token.expiring" and data["id"] == token_id


def test_settled_deliveries_are_pruned_after_30_days_pending_ones_never(clients, acme):
    from webhooks.tasks import prune_deliveries

    subscribe(clients["admin"], "https://erp.example.com/h", ["vendor.created"])
    for name in ("old done", "old failed", "old pending", "fresh done"):
        clients["erp"].post("/api/v1/vendors", {"name": name})
    old = timezone.now() - timedelta(days=31)
    with tenant_context(acme):
        done, failed, pending, fresh = Delivery.objects.order_by("id")
        Delivery.objects.filter(pk__in=[done.pk, failed.pk, pending.pk]).update(created_at=old)
        Delivery.objects.filter(pk__in=[done.pk, fresh.pk]).update(status="succeeded")
        Delivery.objects.filter(pk=failed.pk).update(status="failed")
    connection.set_schema_to_public()
    assert prune_deliveries(int(timezone.now().timestamp())) == 2
    assert [d.pk for d in deliveries(acme)] == [pending.pk, fresh.pk]


def test_a_tenant_never_sees_or_feeds_another_tenants_webhooks(clients, api, globex, acme):
    hook = subscribe(clients["admin"], "https://erp.example.com/h", ["vendor.created"])
    other = api(globex, issue_token(globex, ["read", "write", "admin"]))
    assert other.get("/api/v1/webhooks").json()["data"] == []
    for method, path in (
        ("get", f"/api/v1/webhooks/{hook['id']}"),
        ("patch", f"/api/v1/webhooks/{hook['id']}"),
        ("delete", f"/api/v1/webhooks/{hook['id']}"),
        ("post", f"/api/v1/webhooks/{hook['id']}/test"),
        ("get", f"/api/v1/webhooks/{hook['id']}/deliveries"),
    ):
        assert getattr(other, method)(path).status_code == 404, (method, path)
    other.post("/api/v1/vendors", {"name": "Globex supplier"})  # no acme delivery for it
    assert deliveries(acme) == []
    assert clients["admin"].get(f"/api/v1/webhooks/{hook['id']}").status_code == 200
