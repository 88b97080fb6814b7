"""``/api/v1/vendors``: CRUD, field validation, filters, sorting, tenant isolation."""

from __future__ import annotations

import pytest

from tests.helpers import forbidden
from tests.procurement.conftest import FROZEN_AT

INVALID = "The given data was invalid."

FULL = {
    "name": "Al Faisal IT Solutions",
    "name_ar": "الفيصل لحلول التقنية",
    "email": "sales@alfaisal-it.sa",
    "phone": "+966 11 234 5678",
    "vat_number": "300012345600003",
    "cr_number": "1010123456",
    "category": "IT",
    "status": "inactive",
    "payment_terms": 45,
    "currency": "usd",
}


def test_vendor_create_with_every_field(clients, frozen):
    response = clients["write"].post("/api/v1/vendors", FULL)
    assert response.status_code == 201
    data = response.json()["data"]
    assert data == {
        "id": data["id"],
        **FULL,
        "currency": "USD",
        "created_at": FROZEN_AT,
        "updated_at": FROZEN_AT,
    }
    assert list(data) == [
        "id",
        "name",
        "name_ar",
        "email",
        "phone",
        "vat_number",
        "cr_number",
        "category",
        "status",
        "payment_terms",
        "currency",
        "created_at",
        "updated_at",
    ]


def test_vendor_create_with_only_a_name_uses_defaults(clients, frozen):
    response = clients["write"].post("/api/v1/vendors", {"name": "Najd Cleaning"})
    assert response.status_code == 201
    data = response.json()["data"]
    assert data == {
        "id": data["id"],
        "name": "Najd Cleaning",
        "name_ar": None,
        "email": None,
        "phone": None,
        "vat_number": None,
        "cr_number": None,
        "category": None,
        "status": "active",
        "payment_terms": None,
        "currency": "SAR",
        "created_at": FROZEN_AT,
        "updated_at": FROZEN_AT,
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("vat_number", "30001234560000", "The vat number must be exactly 15 digits."),
        ("vat_number", "3000123456000033", "The vat number must be exactly 15 digits."),
        ("vat_number", "30001234560000A", "The vat number must be exactly 15 digits."),
        ("cr_number", "101012345", "The cr number must be exactly 10 digits."),
        ("cr_number", "10101234567", "The cr number must be exactly 10 digits."),
        ("cr_number", "10101-3456", "The cr number must be exactly 10 digits."),
        ("email", "not-an-email", "Enter a valid email address."),
        ("phone", "call me", "The phone must be a phone number (digits, spaces, + - ( ))."),
        ("status", "deleted", '"deleted" is not a valid choice.'),
        ("payment_terms", -1, "The payment terms must be between 0 and 365 days."),
        ("payment_terms", 366, "The payment terms must be between 0 and 365 days."),
        ("payment_terms", "soon", "A valid integer is required."),
        ("currency", "RIYAL", "The currency must be a 3-letter code."),
        ("name", "", "This field may not be blank."),
        ("name", None, "This field may not be null."),
    ],
)
def test_vendor_create_validates_each_field(clients, field, value, message):
    response = clients["write"].post("/api/v1/vendors", {"name": "V", field: value})
    assert response.status_code == 422
    assert response.json() == {"message": INVALID, "errors": {field: [message]}}


def test_vendor_create_requires_a_name(clients):
    response = clients["write"].post("/api/v1/vendors", {"email": "a@b.sa"})
    assert response.json() == {"message": INVALID, "errors": {"name": ["This field is required."]}}


def test_vendor_update_patch_put_and_clearing_optional_fields(clients, make, acme):
    vendor = make.vendor(acme, name="Gulf Furniture", email="sales@gulf.sa", category="Furniture")
    url = f"/api/v1/vendors/{vendor.pk}"
    patched = clients["write"].patch(url, {"status": "blocked", "email": None})
    assert patched.status_code == 200
    data = patched.json()["data"]
    assert (data["status"], data["email"], data["category"]) == ("blocked", None, "Furniture")
    assert clients["write"].put(url, {"category": "Office"}).json() == {
        "message": INVALID,
        "errors": {"name": ["This field is required."]},
    }
    put = clients["write"].put(url, {"name": "Gulf Furniture Trading", "category": "Office"})
    assert put.status_code == 200
    assert put.json()["data"]["name"] == "Gulf Furniture Trading"
    assert put.json()["data"]["status"] == "blocked"
    assert clients["write"].patch(url, {"vat_number": "12"}).status_code == 422


def test_vendor_delete_and_refusal_when_it_has_orders(clients, make, acme):
    lonely = make.vendor(acme)
    assert clients["delete"].delete(f"/api/v1/vendors/{lonely.pk}").status_code == 204
    assert clients["read"].get(f"/api/v1/vendors/{lonely.pk}").status_code == 404
    busy = make.vendor(acme)
    make.order(acme, vendor=busy)
    response = clients["delete"].delete(f"/api/v1/vendors/{busy.pk}")
    assert response.status_code == 409
    assert response.json() == {
        "message": "The vendor has purchase orders and cannot be deleted.",
        "errors": {
            "vendor": ["Referenced by purchase orders; set its status to inactive or blocked."]
        },
    }


@pytest.fixture
def catalogue(make, acme):
    return {
        "faisal": make.vendor(acme, name="Al Faisal IT", email="sales@faisal.sa", category="IT"),
        "riyadh": make.vendor(acme, name="Riyadh Office", email="orders@ro.sa", category="Office"),
        "desert": make.vendor(
            acme,
            name="Desert Trading",
            email="info@faisal-group.sa",
            category="it",
            status="blocked",
        ),
        "tabuk": make.vendor(acme, name="Tabuk Print", category="Printing", status="inactive"),
    }


def _names(response):
    assert response.status_code == 200, response.json()
    return [v["name"] for v in response.json()["data"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Tabuk Print", "Desert Trading", "Riyadh Office", "Al Faisal IT"]),
        ({"status": "active"}, ["Riyadh Office", "Al Faisal IT"]),
        ({"status": "blocked"}, ["Desert Trading"]),
        ({"category": "IT"}, ["Desert Trading", "Al Faisal IT"]),
        ({"search": "faisal"}, ["Desert Trading", "Al Faisal IT"]),  # name or email
        ({"search": "ORDERS@"}, ["Riyadh Office"]),
        ({"search": "faisal", "status": "active"}, ["Al Faisal IT"]),
        ({"search": "nobody"}, []),
        (
            {"sort_by": "name", "sort_order": "asc"},
            ["Al Faisal IT", "Desert Trading", "Riyadh Office", "Tabuk Print"],
        ),
        # Ties (two active vendors) are broken by id in the same direction.
        (
            {"sort": "status", "order": "asc", "search": "a"},
            ["Al Faisal IT", "Riyadh Office", "Desert Trading", "Tabuk Print"],
        ),
    ],
)
def test_vendor_list_filters(clients, catalogue, query, expected):
    assert _names(clients["read"].get("/api/v1/vendors", **query)) == expected


def test_vendor_list_rejects_a_bad_status_filter(clients, catalogue):
    response = clients["read"].get("/api/v1/vendors", status="gone")
    assert response.status_code == 422
    assert response.json() == {
        "message": INVALID,
        "errors": {"status": ["Select a valid choice. gone is not one of the available choices."]},
    }


def test_vendor_of_another_tenant_is_404(clients, make, globex):
    foreign = make.vendor(globex)
    assert clients["admin"].get(f"/api/v1/vendors/{foreign.pk}").status_code == 404
    assert clients["admin"].put(f"/api/v1/vendors/{foreign.pk}", {"name": "x"}).status_code == 404


def test_vendor_abilities(clients, make, acme):
    vendor = make.vendor(acme)
    url = f"/api/v1/vendors/{vendor.pk}"
    assert clients["read"].post("/api/v1/vendors", {"name": "x"}).json() == forbidden("write")
    assert clients["read"].put(url, {"name": "x"}).json() == forbidden("write")
    assert clients["write"].delete(url).json() == forbidden("delete")
    assert clients["approve"].get("/api/v1/vendors").json() == forbidden("read")
    assert clients["admin"].patch(url, {"name": "Renamed"}).json()["data"]["name"] == "Renamed"
