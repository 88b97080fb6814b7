"""``seed_demo`` adds realistic procurement data once; running it again adds nothing."""

from __future__ import annotations

from collections import Counter
from io import StringIO

from django.core.management import call_command

from procurement.models import Department, PurchaseOrder, Vendor


def _snapshot():
    return (
        Department.objects.count(),
        Counter(Vendor.objects.values_list("status", flat=True)),
        Counter(PurchaseOrder.objects.values_list("status", flat=True)),
        sorted(PurchaseOrder.objects.values_list("po_number", flat=True)),
    )


def test_seed_demo_adds_procurement_data_once(acme, in_tenant):
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO())
    assert "Demo data:   5 departments, 10 vendors, 25 purchase orders" in out.getvalue()
    first = in_tenant(acme, _snapshot)
    departments, vendors, orders, numbers = first
    assert departments == 5
    assert vendors == {"active": 7, "inactive": 2, "blocked": 1}
    assert set(orders) == {
        "draft",
        "pending_approval",
        "approved",
        "rejected",
        "cancelled",
        "completed",
    }
    assert sum(orders.values()) == 25 and len(set(numbers)) == 25

    again = StringIO()
    call_command("seed_demo", stdout=again, stderr=StringIO())
    assert "25 purchase orders (already there; nothing added)" in again.getvalue()
    assert in_tenant(acme, _snapshot) == first


def test_seed_demo_orders_have_consistent_totals(acme, in_tenant):
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())

    def check() -> None:
        for order in PurchaseOrder.objects.with_details():
            items = list(order.items.all())
            assert items
            assert order.total_amount == sum(i.total for i in items)
            assert order.subtotal + order.vat_amount == order.total_amount

    in_tenant(acme, check)
