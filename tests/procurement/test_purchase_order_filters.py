"""``GET /api/v1/purchase-orders`` filters, sorting and their refusals (422)."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest

from tests.procurement.conftest import line

INVALID = "The given data was invalid."


@pytest.fixture
def ledger(make, acme):
    """Five orders created a day apart (2025-01-01 .. 2025-01-05, 10:00 Riyadh)."""
    it, fin = make.department(acme, code="IT"), make.department(acme, code="FIN")
    acme_vendor, beta = make.vendor(acme, name="Acme Supplies"), make.vendor(acme, name="Beta")
    plan = [
        (acme_vendor, it, "100", "Paper for printers"),
        (beta, it, "1000", "Laptops"),
        (acme_vendor, fin, "250", "Desk lamps"),
        (beta, fin, "5000", "Server rack for printers"),
        (acme_vendor, it, "40", "Pens"),
    ]
    orders = []
    for day, (vendor, department, price, notes) in enumerate(plan, start=1):
        with mock.patch(
            "django.utils.timezone.now", return_value=datetime(2025, 1, day, 7, 0, tzinfo=UTC)
        ):
            orders.append(
                make.order(
                    acme,
                    vendor=vendor,
                    department=department,
                    notes=notes,
                    items=[line(unit_price=price, vat_rate="0")],
                )
            )
    make.walk(acme, orders[1], "submit")
    make.walk(acme, orders[3], "submit", "approve")
    return {"orders": orders, "it": it, "fin": fin, "acme": acme_vendor, "beta": beta}


def _numbers(response):
    assert response.status_code == 200, response.json()
    return [o["po_number"][-1] for o in response.json()["data"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["5", "4", "3", "2", "1"]),
        ({"status": "draft"}, ["5", "3", "1"]),
        ({"status": "approved"}, ["4"]),
        ({"created_from": "2025-01-02", "created_to": "2025-01-04"}, ["4", "3", "2"]),
        ({"created_from": "2025-01-03T10:00:00+03:00"}, ["5", "4", "3"]),
        ({"created_from": "2025-01-03T07:00:01Z"}, ["5", "4"]),
        ({"created_to": "2025-01-02T07:00:00Z"}, ["2", "1"]),
        ({"created_to": "2025-01-01"}, ["1"]),
        ({"min_amount": "250"}, ["4", "3", "2"]),
        ({"max_amount": "250.00"}, ["5", "3", "1"]),
        ({"min_amount": 100, "max_amount": 1000}, ["3", "2", "1"]),
        ({"search": "PRINTERS"}, ["4", "1"]),
        ({"search": "-0003"}, ["3"]),
        ({"sort_by": "total_amount", "sort_order": "asc"}, ["5", "1", "3", "2", "4"]),
        ({"sort": "po_number", "order": "asc", "per_page": 2, "page": 2}, ["3", "4"]),
    ],
)
def test_po_list_filters(clients, ledger, query, expected):
    assert _numbers(clients["read"].get("/api/v1/purchase-orders", **query)) == expected


def test_po_list_filters_by_vendor_and_department(clients, ledger):
    get = clients["read"].get
    assert _numbers(get("/api/v1/purchase-orders", vendor_id=ledger["beta"].pk)) == ["4", "2"]
    assert _numbers(get("/api/v1/purchase-orders", department_id=ledger["fin"].pk)) == ["4", "3"]
    assert _numbers(
        get("/api/v1/purchase-orders", vendor_id=ledger["acme"].pk, department_id=ledger["it"].pk)
    ) == ["5", "1"]
    assert _numbers(get("/api/v1/purchase-orders", vendor_id=999999)) == []


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        (
            {"status": "paid"},
            {"status": ["Select a valid choice. paid is not one of the available choices."]},
        ),
        ({"vendor_id": "abc"}, {"vendor_id": ["Enter a whole number."]}),
        (
            {"department_id": "99999999999999999999"},
            {"department_id": ["Ensure this value is less than or equal to 9223372036854775807."]},
        ),
        (
            {"created_from": "yesterday"},
            {"created_from": ["Enter a date (YYYY-MM-DD) or an ISO 8601 date-time."]},
        ),
        (
            {"created_to": "2025-13-01"},
            {"created_to": ["Enter a date (YYYY-MM-DD) or an ISO 8601 date-time."]},
        ),
        ({"min_amount": "cheap"}, {"min_amount": ["Enter a number."]}),
        ({"max_amount": "NaN"}, {"max_amount": ["Enter a number."]}),
        ({"search": "a\x00b"}, {"search": ["Null characters are not allowed."]}),
        (
            {"sort_by": "vendor"},
            {
                "sort_by": [
                    "The sort_by must be one of: created_at, updated_at, po_number, status, "
                    "total_amount, "
                    "expected_delivery_date, id."
                ]
            },
        ),
        ({"page": "0"}, {"page": ["The page must be a positive integer."]}),
    ],
)
def test_po_list_rejects_bad_filter_values(clients, query, errors):
    response = clients["read"].get("/api/v1/purchase-orders", **query)
    assert response.status_code == 422
    assert response.json() == {"message": INVALID, "errors": errors}
