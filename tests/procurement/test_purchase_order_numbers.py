"""Purchase-order numbers: ``PO-{year}-{seq:04d}`` per tenant, in the Riyadh calendar year,
gapless under rollbacks and never reused after a delete."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db import transaction

from procurement import services
from tests.procurement.conftest import line


def test_po_numbers_follow_creation_order(clients, make, acme, frozen):
    body = {
        "vendor_id": make.vendor(acme).pk,
        "department_id": make.department(acme).pk,
        "items": [{"description": "Laptop", "quantity": 1, "unit_price": "4500"}],
    }
    numbers = [
        clients["write"].post("/api/v1/purchase-orders", body).json()["data"]["po_number"]
        for _ in range(3)
    ]
    assert numbers == ["PO-2025-0001", "PO-2025-0002", "PO-2025-0003"]


def test_po_numbers_use_the_riyadh_calendar_year(make, acme, in_tenant):
    vendor, department = make.vendor(acme), make.department(acme)

    def create_at(moment: datetime) -> str:
        with mock.patch("django.utils.timezone.now", return_value=moment):
            return make.order(acme, vendor=vendor, department=department).po_number

    # 23:59 UTC on Dec 31 is already Jan 1 in Riyadh (UTC+3).
    assert create_at(datetime(2025, 12, 31, 20, 59, tzinfo=UTC)) == "PO-2025-0001"
    assert create_at(datetime(2025, 12, 31, 21, 0, tzinfo=UTC)) == "PO-2026-0001"
    assert create_at(datetime(2026, 6, 1, tzinfo=UTC)) == "PO-2026-0002"
    assert create_at(datetime(2025, 12, 31, 12, 0, tzinfo=UTC)) == "PO-2025-0002"


def test_po_numbers_are_per_tenant(make, acme, globex, frozen):
    assert make.order(acme).po_number == "PO-2025-0001"
    assert make.order(globex).po_number == "PO-2025-0001"
    assert make.order(acme).po_number == "PO-2025-0002"


def test_po_number_of_a_rolled_back_create_is_handed_out_again(make, acme, in_tenant, frozen):
    vendor, department = make.vendor(acme), make.department(acme)

    def failing_create() -> None:
        with transaction.atomic():
            services.purchase_order_create(
                vendor_id=vendor.pk, department_id=department.pk, items=[line()]
            )
            raise RuntimeError("crash after numbering")

    with pytest.raises(RuntimeError):
        in_tenant(acme, failing_create)
    assert make.order(acme, vendor=vendor, department=department).po_number == "PO-2025-0001"


def test_po_number_of_a_deleted_draft_is_never_reused(clients, make, acme, frozen):
    first, second = make.order(acme), make.order(acme)
    assert clients["delete"].delete(f"/api/v1/purchase-orders/{second.pk}").status_code == 204
    assert clients["read"].get(f"/api/v1/purchase-orders/{second.pk}").status_code == 404
    assert (first.po_number, make.order(acme).po_number) == ("PO-2025-0001", "PO-2025-0003")
