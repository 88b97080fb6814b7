"""The planned output serializers render byte for byte what DRF's generic path renders."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django_tenants.utils import tenant_context
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from procurement.filters import PurchaseOrderFilter
from procurement.models import PurchaseOrder
from procurement.serializers import PurchaseOrderSerializer, _PlannedOutput


def rendered(orders: list[PurchaseOrder]) -> bytes:
    return JSONRenderer().render(PurchaseOrderSerializer(orders, many=True).data)


def test_planned_output_matches_drf_over_awkward_values(acme, awkward_orders, monkeypatch):
    with tenant_context(acme):
        orders = list(PurchaseOrder.objects.with_details().order_by("pk"))
        # Values a database never returns for these columns take DRF's own path.
        orders[1].subtotal = Decimal("1.5")
        orders[1].vat_amount = Decimal("-0.00")
        orders[1].total_amount = Decimal("123.456")
        orders[1].items.all()[2].quantity = Decimal("NaN")
        fast = rendered(orders)
        generic_path = serializers.Serializer.to_representation
        monkeypatch.setattr(_PlannedOutput, "to_representation", generic_path)
        generic = rendered(orders)
    connection.set_schema_to_public()
    assert fast == generic
    assert b'"notes":null' in fast and b'"rejection_reason":"No budget"' in fast
    assert b'"vat_amount":"-0.00"' in fast and b'"total_amount":"123.46"' in fast


def test_planned_output_builds_fields_once_per_class(db, acme, make):
    order = make.order(acme)
    with tenant_context(acme):
        order = PurchaseOrder.objects.with_details().get(pk=order.pk)
        first = PurchaseOrderSerializer(order).data
        serializer = PurchaseOrderSerializer(order)
        second = serializer.data
    connection.set_schema_to_public()
    assert first == second and second["id"] == order.pk
    assert "fields" not in serializer.__dict__  # DRF's cached property was never built


def test_filter_form_is_built_only_when_a_filter_is_given(db, clients, make, acme, monkeypatch):
    make.order(acme)
    built: list[dict] = []
    original = PurchaseOrderFilter.__init__

    def counting_init(self, data=None, *args, **kwargs):
        built.append(dict(data or {}))
        original(self, data, *args, **kwargs)

    monkeypatch.setattr(PurchaseOrderFilter, "__init__", counting_init)
    listed = clients["read"].get("/api/v1/purchase-orders", per_page=5, sort_by="id", page=1)
    assert listed.status_code == 200 and listed.json()["meta"]["total"] == 1
    assert built == []
    refused = clients["read"].get("/api/v1/purchase-orders", status="nope")
    assert refused.status_code == 422 and list(refused.json()["errors"]) == ["status"]
    assert clients["read"].get("/api/v1/purchase-orders", status="").json()["meta"]["total"] == 1
    assert [list(data) for data in built] == [["status"], ["status"]]
