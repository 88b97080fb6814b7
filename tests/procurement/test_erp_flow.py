"""The whole ERP story over HTTP: vendor, PO with items, submit, approve, complete, read back."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

from tests.helpers import forbidden, issue_token


def test_erp_flow_with_a_write_token_and_an_approve_token(api, acme):
    erp = api(acme, issue_token(acme, ["read", "write"], name="ERP Sync"))
    cfo = api(acme, issue_token(acme, ["read", "approve"], name="CFO approvals"))

    def at(hour: int):
        return mock.patch(
            "django.utils.timezone.now", return_value=datetime(2025, 5, 4, hour, 0, tzinfo=UTC)
        )

    with at(6):
        vendor = erp.post(
            "/api/v1/vendors",
            {
                "name": "Al Faisal IT Solutions",
                "vat_number": "300012345600003",
                "cr_number": "1010123456",
                "category": "IT",
                "payment_terms": 30,
            },
            headers={"Idempotency-Key": "vendor-AF-001"},
        )
        department = erp.post(
            "/api/v1/departments", {"name": "Information Technology", "code": "IT"}
        )
    assert vendor.status_code == 201 and department.status_code == 201
    order_body = {
        "vendor_id": vendor.json()["data"]["id"],
        "department_id": department.json()["data"]["id"],
        "notes": "Laptop refresh",
        "expected_delivery_date": "2025-05-20",
        "items": [
            {"description": "Laptop", "quantity": 10, "unit": "unit", "unit_price": "4500.00"},
            {"description": "Docking station", "quantity": "3", "unit_price": 33.335},
        ],
    }
    with at(7):
        created = erp.post(
            "/api/v1/purchase-orders", order_body, headers={"Idempotency-Key": "PO-REQ-77"}
        )
        # The ERP timed out and retried: same answer, no second order.
        retried = erp.post(
            "/api/v1/purchase-orders", order_body, headers={"Idempotency-Key": "PO-REQ-77"}
        )
    assert created.status_code == 201 and retried.content == created.content
    po = created.json()["data"]
    url = f"/api/v1/purchase-orders/{po['id']}"
    assert po["po_number"] == "PO-2025-0001" and po["status"] == "draft"

    # Misuse along the way gets precise errors.
    assert erp.post(f"{url}/approve").json() == forbidden("approve")
    assert cfo.post(f"{url}/approve").json()["message"] == (
        "Only a purchase order pending approval can be approved; this one is draft."
    )
    with at(8):
        assert erp.post(f"{url}/submit").json()["data"]["status"] == "pending_approval"
    assert erp.patch(url, {"notes": "too late"}).status_code == 409
    with at(10):
        approved = cfo.post(f"{url}/approve", {"comments": "Budget line IT-2025-04"})
    assert approved.json()["data"]["status"] == "approved"
    with at(15):
        assert erp.post(f"{url}/complete").json()["data"]["status"] == "completed"

    final = erp.get(url).json()["data"]
    assert {
        k: final[k]
        for k in [
            "status",
            "subtotal",
            "vat_amount",
            "total_amount",
            "created_at",
            "submitted_at",
            "approved_at",
            "rejected_at",
        ]
    } == {
        "status": "completed",
        "subtotal": "45100.01",
        "vat_amount": "6765.00",
        "total_amount": "51865.01",
        "created_at": "2025-05-04T07:00:00Z",
        "submitted_at": "2025-05-04T08:00:00Z",
        "approved_at": "2025-05-04T10:00:00Z",
        "rejected_at": None,
    }
    assert [(i["total"]) for i in final["items"]] == ["51750.00", "115.01"]
    listing = erp.get("/api/v1/purchase-orders", status="completed").json()
    assert [o["po_number"] for o in listing["data"]] == ["PO-2025-0001"]
