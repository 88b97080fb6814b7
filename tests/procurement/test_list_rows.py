"""The purchase-order list served from rows answers byte for byte what the serializers answer."""

from __future__ import annotations

from datetime import date

import pytest

from procurement.views import CrudViewSet, PurchaseOrderViewSet
from tests.procurement.conftest import line

QUERIES = [
    {},
    {"per_page": 2},
    {"per_page": 2, "page": 2},
    {"per_page": 2, "page": 3},
    {"per_page": 2, "page": 9},
    {"per_page": 100},
    {"sort_by": "total_amount", "sort_order": "asc", "per_page": 3, "page": 2},
    {"sort_by": "po_number", "sort_order": "desc"},
    {"sort": "expected_delivery_date", "order": "asc"},
    {"sort_by": "status"},
    {"sort_by": "updated_at", "sort_order": "asc", "per_page": 1, "page": 4},
    {"status": "rejected"},
    {"status": "approved", "per_page": 1},
    {"min_amount": "100.00", "max_amount": "99999999999", "sort_by": "id"},
    {"search": "break"},
    {"search": "nothing matches this"},
    {"created_from": "2000-01-01", "created_to": "2999-12-31", "per_page": 2, "page": 2},
]


@pytest.fixture
def awkward_orders(make, acme):
    vendor = make.vendor(acme, name='مورد "quoted" \\ back\tslash')
    other_vendor = make.vendor(acme, name="Plain Vendor")
    department = make.department(acme, name="قسم", name_ar="", code="AR")
    plain = make.order(acme, vendor=vendor, department=department)
    make.walk(acme, plain, "submit", "reject")
    make.order(
        acme,
        vendor=other_vendor,
        department=department,
        notes="line\nbreak \u2028 emoji \U0001f600 </script>",
        delivery_address="",
        expected_delivery_date=date(2031, 12, 31),
        items=[
            line("Tiny", quantity="0.001", unit_price="0.01", vat_rate="0", unit="g"),
            line("Huge", quantity="99999.999", unit_price="9999999.99", vat_rate="15.5"),
            line("Plain", quantity="3", unit_price="7", unit="box"),
        ],
    )
    approved = make.order(
        acme,
        vendor=vendor,
        department=department,
        delivery_address="King Fahd Road",
        expected_delivery_date=date(2025, 1, 1),
        items=[line(f"Line {n}", quantity=str(n), unit_price="33.335") for n in range(1, 8)],
    )
    make.walk(acme, approved, "submit", "approve")
    make.walk(acme, make.order(acme, vendor=other_vendor), "cancel")
    make.order(acme, notes="break", items=[line(unit_price="0")])


def test_list_rows_match_the_serializer_output(clients, awkward_orders, monkeypatch):
    reader = clients["read"]
    fast = [reader.get("/api/v1/purchase-orders", **query) for query in QUERIES]
    monkeypatch.setattr(PurchaseOrderViewSet, "list", CrudViewSet.list)
    generic = [reader.get("/api/v1/purchase-orders", **query) for query in QUERIES]
    for query, ours, theirs in zip(QUERIES, fast, generic, strict=True):
        assert ours.status_code == theirs.status_code == 200, query
        assert ours.content == theirs.content, query
    everything = fast[5].json()
    assert everything["meta"]["total"] == 5
    assert [len(order["items"]) for order in everything["data"]] == [1, 1, 7, 3, 1]
    assert b'"unit":null' in fast[5].content and b'"unit":"g"' in fast[5].content
    assert b'"notes":null' in fast[5].content
    assert b'"rejection_reason":"No budget"' in fast[5].content
    assert fast[4].json()["data"] == [] and fast[15].json()["meta"]["total"] == 0


def test_list_rows_refuse_bad_filters_and_sorting_as_before(clients, awkward_orders):
    reader = clients["read"]
    refused = reader.get("/api/v1/purchase-orders", status="nope", sort_by="vendor")
    assert refused.status_code == 422
    assert list(refused.json()["errors"]) == ["status"]
    refused = reader.get("/api/v1/purchase-orders", sort_by="vendor")
    assert refused.status_code == 422 and list(refused.json()["errors"]) == ["sort_by"]
    refused = reader.get("/api/v1/purchase-orders", per_page="0")
    assert refused.status_code == 422 and list(refused.json()["errors"]) == ["per_page"]
