"""``/api/v1/purchase-orders``: create, totals, validation, edit, delete, 404s.

Numbering is in ``test_purchase_order_numbers.py``, list filters in
``test_purchase_order_filters.py``, the status machine in ``test_lifecycle.py``.
"""

from __future__ import annotations

import pytest

from tests.procurement.conftest import FROZEN_AT, line

INVALID = "The given data was invalid."


@pytest.fixture
def vendor(make, acme):
    return make.vendor(acme, name="Al Faisal IT Solutions")


@pytest.fixture
def department(make, acme):
    return make.department(acme, name="Information Technology", code="IT")


@pytest.fixture
def body(vendor, department):
    return {
        "vendor_id": vendor.pk,
        "department_id": department.pk,
        "items": [
            {"description": "Laptop", "quantity": 10, "unit": "unit", "unit_price": "4500"},
            {"description": "Card printing", "quantity": "3", "unit_price": 33.335, "vat_rate": 15},
            {
                "description": "Training (exempt)",
                "quantity": 1.5,
                "unit_price": "200.1",
                "vat_rate": "0",
            },
        ],
    }


def test_po_create_returns_201_with_server_computed_totals(
    clients, body, vendor, department, frozen
):
    body = {
        **body,
        "notes": "Q1 refresh",
        "delivery_address": "King Fahd Road, Riyadh",
        "expected_delivery_date": "2025-04-01",
    }
    response = clients["write"].post("/api/v1/purchase-orders", body)
    assert response.status_code == 201
    data = response.json()["data"]
    item_ids = [item["id"] for item in data["items"]]
    assert data == {
        "id": data["id"],
        "po_number": "PO-2025-0001",
        "status": "draft",
        "vendor": {"id": vendor.pk, "name": "Al Faisal IT Solutions"},
        "department": {"id": department.pk, "name": "Information Technology"},
        "currency": "SAR",
        "notes": "Q1 refresh",
        "delivery_address": "King Fahd Road, Riyadh",
        "expected_delivery_date": "2025-04-01",
        "items": [
            {
                "id": item_ids[0],
                "line_number": 1,
                "description": "Laptop",
                "quantity": "10.000",
                "unit": "unit",
                "unit_price": "4500.0000",
                "vat_rate": "15.00",
                "subtotal": "45000.00",
                "vat_amount": "6750.00",
                "total": "51750.00",
            },
            {
                "id": item_ids[1],
                "line_number": 2,
                "description": "Card printing",
                "quantity": "3.000",
                "unit": None,
                "unit_price": "33.3350",
                "vat_rate": "15.00",
                "subtotal": "100.01",
                "vat_amount": "15.00",
                "total": "115.01",
            },
            {
                "id": item_ids[2],
                "line_number": 3,
                "description": "Training (exempt)",
                "quantity": "1.500",
                "unit": None,
                "unit_price": "200.1000",
                "vat_rate": "0.00",
                "subtotal": "300.15",
                "vat_amount": "0.00",
                "total": "300.15",
            },
        ],
        "subtotal": "45400.16",
        "vat_amount": "6765.00",
        "total_amount": "52165.16",
        "created_at": FROZEN_AT,
        "updated_at": FROZEN_AT,
        "submitted_at": None,
        "approved_at": None,
        "rejected_at": None,
        "rejection_reason": None,
    }
    assert clients["read"].get(f"/api/v1/purchase-orders/{data['id']}").json() == {"data": data}


def test_po_create_defaults(clients, vendor, department):
    response = clients["write"].post(
        "/api/v1/purchase-orders",
        {
            "vendor_id": vendor.pk,
            "department_id": department.pk,
            "items": [{"description": "Paper", "quantity": "2", "unit_price": "10"}],
        },
    )
    data = response.json()["data"]
    assert (data["currency"], data["items"][0]["vat_rate"], data["total_amount"]) == (
        "SAR",
        "15.00",
        "23.00",
    )
    assert (data["notes"], data["delivery_address"], data["expected_delivery_date"]) == (
        None,
        None,
        None,
    )


def _item(**overrides):
    return {"description": "Thing", "quantity": "1", "unit_price": "10", **overrides}


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"items": []}, {"items": ["A purchase order needs at least one item."]}),
        ({"items": None}, {"items": ["This field may not be null."]}),
        ({"items": "many"}, {"items": ["The items must be a list."]}),
        (
            {"items": [_item(quantity=0)]},
            {"items.0.quantity": ["The quantity must be greater than 0."]},
        ),
        (
            {"items": [_item(quantity="-2")]},
            {"items.0.quantity": ["The quantity must be greater than 0."]},
        ),
        (
            {"items": [_item(quantity="1.0001")]},
            {"items.0.quantity": ["Ensure that there are no more than 3 decimal places."]},
        ),
        (
            {"items": [_item(quantity="lots")]},
            {"items.0.quantity": ["A valid number is required."]},
        ),
        ({"items": [_item(quantity=True)]}, {"items.0.quantity": ["A valid number is required."]}),
        ({"items": [_item(quantity="NaN")]}, {"items.0.quantity": ["A valid number is required."]}),
        (
            {"items": [_item(unit_price=-0.01)]},
            {"items.0.unit_price": ["The unit price must not be negative."]},
        ),
        (
            {"items": [_item(unit_price="0.00001")]},
            {"items.0.unit_price": ["Ensure that there are no more than 4 decimal places."]},
        ),
        (
            {"items": [_item(vat_rate=-1)]},
            {"items.0.vat_rate": ["The VAT rate must be between 0 and 100."]},
        ),
        (
            {"items": [_item(vat_rate="100.01")]},
            {"items.0.vat_rate": ["The VAT rate must be between 0 and 100."]},
        ),
        (
            {"items": [_item(description="")]},
            {"items.0.description": ["This field may not be blank."]},
        ),
        (
            {"items": [_item(), {"quantity": 1, "unit_price": 1}]},
            {"items.1.description": ["This field is required."]},
        ),
        (
            {"items": [_item(quantity="999999999", unit_price="99999999999")]},
            {"items.0.total": ["The line total must be less than 1,000,000,000,000,000."]},
        ),
        ({"items": [_item()] * 501}, {"items": ["A purchase order can have at most 500 items."]}),
        (
            {"expected_delivery_date": "31/12/2025"},
            {"expected_delivery_date": ["The expected delivery date must be a date (YYYY-MM-DD)."]},
        ),
        (
            {"expected_delivery_date": "2025-02-30"},
            {"expected_delivery_date": ["The expected delivery date must be a date (YYYY-MM-DD)."]},
        ),
        ({"currency": "SA"}, {"currency": ["The currency must be a 3-letter code."]}),
        ({"vendor_id": "abc"}, {"vendor_id": ["The id must be an integer."]}),
        ({"vendor_id": 999999}, {"vendor_id": ["The selected vendor id is invalid."]}),
        (
            {"vendor_id": 99999999999999999999},
            {"vendor_id": ["The selected vendor id is invalid."]},
        ),
        ({"department_id": 999999}, {"department_id": ["The selected department id is invalid."]}),
        ({"department_id": None}, {"department_id": ["This field may not be null."]}),
    ],
)
def test_po_create_validation(clients, body, changes, errors):
    response = clients["write"].post("/api/v1/purchase-orders", {**body, **changes})
    assert response.status_code == 422
    assert response.json() == {"message": INVALID, "errors": errors}


@pytest.mark.parametrize("field", ["vendor_id", "department_id", "items"])
def test_po_create_requires_vendor_department_and_items(clients, body, field):
    del body[field]
    response = clients["write"].post("/api/v1/purchase-orders", body)
    assert response.json() == {"message": INVALID, "errors": {field: ["This field is required."]}}


@pytest.mark.parametrize("status", ["inactive", "blocked"])
def test_po_create_refuses_a_vendor_that_is_not_active(clients, make, acme, body, status):
    vendor = make.vendor(acme, status=status)
    response = clients["write"].post("/api/v1/purchase-orders", {**body, "vendor_id": vendor.pk})
    assert response.status_code == 422
    assert response.json() == {
        "message": INVALID,
        "errors": {
            "vendor_id": [
                f"The selected vendor is {status}; "
                "only an active vendor can receive a purchase order."
            ]
        },
    }


def test_po_create_refuses_ids_of_another_tenant(clients, make, acme, globex, body, in_tenant):
    from procurement.models import Department, Vendor

    acme_vendors = set(in_tenant(acme, lambda: list(Vendor.objects.values_list("pk", flat=True))))
    acme_departments = set(
        in_tenant(acme, lambda: list(Department.objects.values_list("pk", flat=True)))
    )
    foreign_vendor = make.vendor(globex)
    while foreign_vendor.pk in acme_vendors:  # ids are per schema; find one acme does not have
        foreign_vendor = make.vendor(globex)
    foreign_department = make.department(globex)
    while foreign_department.pk in acme_departments:
        foreign_department = make.department(globex)
    response = clients["write"].post(
        "/api/v1/purchase-orders", {**body, "vendor_id": foreign_vendor.pk}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"vendor_id": ["The selected vendor id is invalid."]}
    response = clients["write"].post(
        "/api/v1/purchase-orders", {**body, "department_id": foreign_department.pk}
    )
    assert response.json()["errors"] == {
        "department_id": ["The selected department id is invalid."]
    }


def test_po_put_replaces_items_and_recomputes_totals(clients, make, acme, body, frozen):
    order = make.order(acme)
    url = f"/api/v1/purchase-orders/{order.pk}"
    body["items"] = [
        {"description": "Monitor", "quantity": 2, "unit_price": "1150", "vat_rate": 15}
    ]
    response = clients["write"].put(url, {**body, "notes": "Revised"})
    assert response.status_code == 200
    data = response.json()["data"]
    assert [(i["line_number"], i["description"], i["total"]) for i in data["items"]] == [
        (1, "Monitor", "2645.00")
    ]
    assert (data["subtotal"], data["vat_amount"], data["total_amount"]) == (
        "2300.00",
        "345.00",
        "2645.00",
    )
    assert (data["notes"], data["po_number"], data["status"]) == (
        "Revised",
        order.po_number,
        "draft",
    )
    assert data["vendor"]["id"] == body["vendor_id"]
    # PUT needs what a create needs.
    missing = clients["write"].put(url, {"notes": "x"})
    assert missing.status_code == 422
    assert set(missing.json()["errors"]) == {"vendor_id", "department_id", "items"}


def test_po_patch_keeps_items_unless_given(clients, make, acme):
    order = make.order(acme, items=[line(quantity="3", unit_price="33.335")])
    url = f"/api/v1/purchase-orders/{order.pk}"
    data = (
        clients["write"]
        .patch(url, {"notes": "Urgent", "expected_delivery_date": "2030-01-15"})
        .json()["data"]
    )
    assert (data["notes"], data["expected_delivery_date"], data["total_amount"]) == (
        "Urgent",
        "2030-01-15",
        "115.01",
    )
    assert len(data["items"]) == 1
    data = (
        clients["write"]
        .patch(url, {"items": [_item(quantity="4", unit_price="2.5", vat_rate="5")]})
        .json()["data"]
    )
    assert (data["notes"], data["subtotal"], data["vat_amount"], data["total_amount"]) == (
        "Urgent",
        "10.00",
        "0.50",
        "10.50",
    )
    # Lines given in a PATCH must still be complete.
    response = clients["write"].patch(url, {"items": [{"description": "no numbers"}]})
    assert response.json()["errors"] == {
        "items.0.quantity": ["This field is required."],
        "items.0.unit_price": ["This field is required."],
    }
    assert clients["write"].patch(url, {"items": []}).json()["errors"] == {
        "items": ["A purchase order needs at least one item."]
    }


def test_po_edit_refuses_switching_to_an_inactive_vendor(clients, make, acme):
    order = make.order(acme)
    blocked = make.vendor(acme, status="blocked")
    response = clients["write"].patch(
        f"/api/v1/purchase-orders/{order.pk}", {"vendor_id": blocked.pk}
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["vendor_id"]


def test_po_retrieve_ignores_list_parameters(clients, make, acme):
    order = make.order(acme)
    response = clients["read"].get(
        f"/api/v1/purchase-orders/{order.pk}", status="approved", sort="x"
    )
    assert response.status_code == 200


def test_po_of_another_tenant_is_404_everywhere(clients, make, globex):
    foreign = make.order(globex)
    base = f"/api/v1/purchase-orders/{foreign.pk}"
    admin = clients["admin"]
    assert admin.get(base).json() == {"message": "Not found.", "errors": {}}
    assert admin.patch(base, {"notes": "x"}).status_code == 404
    assert admin.delete(base).status_code == 404
    for action in ["submit", "approve", "reject", "cancel", "complete"]:
        assert admin.post(f"{base}/{action}", {"reason": "x"}).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/purchase-orders/x1",
        "/api/v1/purchase-orders/-1/submit",
        "/api/v1/purchase-orders/1234567890123456789",
    ],
)
def test_po_junk_ids_are_404(clients, path):
    assert clients["admin"].post(path).status_code == 404


def test_po_malformed_json_is_400(clients):
    response = clients["write"].post("/api/v1/purchase-orders", raw="{not json")
    assert response.status_code == 400
    assert response.json()["message"] == "Malformed request body."
