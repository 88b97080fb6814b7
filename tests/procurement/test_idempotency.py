"""``Idempotency-Key`` on create endpoints: replay, mismatch, expiry, tenant scope, failures."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from procurement.models import Department, PurchaseOrder, Vendor
from tests.helpers import issue_token
from waqti.api.models import IdempotencyKey


@pytest.fixture
def po_body(make, acme):
    return {
        "vendor_id": make.vendor(acme).pk,
        "department_id": make.department(acme).pk,
        "items": [{"description": "Laptop", "quantity": 2, "unit_price": "4500"}],
    }


def _count(in_tenant, tenant, model) -> int:
    return in_tenant(tenant, lambda: model.objects.count())


@pytest.mark.parametrize(
    ("path", "model", "body"),
    [
        ("/api/v1/departments", Department, {"name": "Finance", "code": "FIN"}),
        ("/api/v1/vendors", Vendor, {"name": "Najd Cleaning", "vat_number": "300056789000003"}),
        ("/api/v1/purchase-orders", PurchaseOrder, None),
    ],
)
def test_idempotent_replay_returns_the_first_answer_and_creates_nothing(
    clients, acme, in_tenant, po_body, path, model, body
):
    body = body or po_body
    before = _count(in_tenant, acme, model)
    headers = {"Idempotency-Key": "erp-7f3c2a"}
    first = clients["write"].post(path, body, headers=headers)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    # Same JSON with keys in another order is the same body.
    retry = clients["write"].post(path, dict(reversed(list(body.items()))), headers=headers)
    assert retry.status_code == 201
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert _count(in_tenant, acme, model) == before + 1


def test_idempotent_key_with_a_different_body_is_422(clients, acme, in_tenant):
    headers = {"Idempotency-Key": "k-1"}
    assert (
        clients["write"].post("/api/v1/vendors", {"name": "A"}, headers=headers).status_code == 201
    )
    response = clients["write"].post("/api/v1/vendors", {"name": "B"}, headers=headers)
    assert response.status_code == 422
    assert response.json() == {
        "message": "The given data was invalid.",
        "errors": {
            "Idempotency-Key": ["This Idempotency-Key was already used with a different request."]
        },
    }
    # The same key on another endpoint is a different request too.
    other = clients["write"].post("/api/v1/departments", {"name": "A"}, headers=headers)
    assert other.status_code == 422
    assert list(other.json()["errors"]) == ["Idempotency-Key"]
    assert _count(in_tenant, acme, Vendor) == 1


def test_idempotent_key_expires_after_24_hours(clients, acme, in_tenant):
    headers = {"Idempotency-Key": "daily-sync"}
    start = timezone.now()
    first = clients["write"].post("/api/v1/vendors", {"name": "A"}, headers=headers).json()
    with mock.patch(
        "django.utils.timezone.now", return_value=start + timedelta(hours=23, minutes=59)
    ):
        assert (
            clients["write"].post("/api/v1/vendors", {"name": "A"}, headers=headers).json() == first
        )
    with mock.patch(
        "django.utils.timezone.now", return_value=start + timedelta(hours=24, seconds=1)
    ):
        fresh = clients["write"].post("/api/v1/vendors", {"name": "A"}, headers=headers)
    assert fresh.status_code == 201
    assert fresh.json()["data"]["id"] != first["data"]["id"]
    assert _count(in_tenant, acme, Vendor) == 2
    assert _count(in_tenant, acme, IdempotencyKey) == 1


def test_idempotent_failed_request_is_not_remembered(clients, acme, in_tenant):
    headers = {"Idempotency-Key": "fix-and-retry"}
    bad = clients["write"].post(
        "/api/v1/vendors", {"name": "A", "vat_number": "1"}, headers=headers
    )
    assert bad.status_code == 422
    good = clients["write"].post(
        "/api/v1/vendors", {"name": "A", "vat_number": "300056789000003"}, headers=headers
    )
    assert good.status_code == 201
    assert _count(in_tenant, acme, IdempotencyKey) == 1


def test_idempotent_refused_request_is_not_remembered(clients, acme, in_tenant):
    headers = {"Idempotency-Key": "no-rights"}
    assert (
        clients["read"].post("/api/v1/vendors", {"name": "A"}, headers=headers).status_code == 403
    )
    assert (
        clients["write"].post("/api/v1/vendors", {"name": "A"}, headers=headers).status_code == 201
    )


def test_idempotent_keys_are_per_tenant(clients, api, acme, globex, in_tenant):
    headers = {"Idempotency-Key": "shared-key"}
    clients["write"].post("/api/v1/vendors", {"name": "A"}, headers=headers)
    other = api(globex, issue_token(globex, ["write"]))
    response = other.post("/api/v1/vendors", {"name": "A"}, headers=headers)
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert _count(in_tenant, globex, Vendor) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\tkey"])
def test_idempotent_malformed_key_is_422(clients, key):
    response = clients["write"].post(
        "/api/v1/vendors", {"name": "A"}, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "Idempotency-Key": ["The Idempotency-Key must be 1 to 255 visible ASCII characters."]
    }


def test_idempotent_without_a_key_every_post_creates(clients, acme, in_tenant):
    for _ in range(2):
        assert clients["write"].post("/api/v1/vendors", {"name": "A"}).status_code == 201
    assert _count(in_tenant, acme, Vendor) == 2
    assert _count(in_tenant, acme, IdempotencyKey) == 0
