"""Procurement fixtures: tokens per ability and data built through the real services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from procurement import lifecycle, services
from procurement.models import Department, PurchaseOrder, Vendor
from procurement.services import LineInput
from tenancy.models import Tenant
from tests.helpers import ApiClient, issue_token


@pytest.fixture
def clients(db: None, api: Callable[..., ApiClient], acme: Tenant) -> dict[str, ApiClient]:
    """One client per ability on acme, plus ``write_approve`` for lifecycle walks."""
    sets = {
        "read": ["read"],
        "write": ["write"],
        "delete": ["delete"],
        "approve": ["approve"],
        "admin": ["admin"],
        "write_approve": ["read", "write", "approve"],
    }
    return {
        name: api(acme, issue_token(acme, abilities, name=name)) for name, abilities in sets.items()
    }


@pytest.fixture
def in_tenant() -> Callable[[Tenant, Callable[[], Any]], Any]:
    """Run ``fn`` in the tenant's schema and come back to public (like the API client does)."""

    def run(tenant: Tenant, fn: Callable[[], Any]) -> Any:
        with tenant_context(tenant):
            result = fn()
        connection.set_schema_to_public()
        return result

    return run


def line(
    description: str = "Widget",
    quantity: str = "1",
    unit_price: str = "100",
    vat_rate: str = "15",
    unit: str = "",
) -> LineInput:
    return LineInput(
        description=description,
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price),
        vat_rate=Decimal(vat_rate),
        unit=unit,
    )


@pytest.fixture
def make(in_tenant: Callable[..., Any]) -> Any:
    """Builders through the services: ``make.department``, ``make.vendor``, ``make.order``."""

    class Builders:
        counter = 0

        def department(self, tenant: Tenant, **fields: Any) -> Department:
            Builders.counter += 1
            fields.setdefault("name", f"Department {Builders.counter}")
            fields.setdefault("code", f"D{Builders.counter}")
            return in_tenant(tenant, lambda: services.department_create(**fields))

        def vendor(self, tenant: Tenant, **fields: Any) -> Vendor:
            Builders.counter += 1
            fields.setdefault("name", f"Vendor {Builders.counter}")
            return in_tenant(tenant, lambda: services.vendor_create(**fields))

        def order(
            self,
            tenant: Tenant,
            *,
            vendor: Vendor | None = None,
            department: Department | None = None,
            items: list[LineInput] | None = None,
            **fields: Any,
        ) -> PurchaseOrder:
            vendor = vendor or self.vendor(tenant)
            department = department or self.department(tenant)
            return in_tenant(
                tenant,
                lambda: services.purchase_order_create(
                    vendor_id=vendor.pk,
                    department_id=department.pk,
                    items=items or [line()],
                    **fields,
                ),
            )

        def walk(self, tenant: Tenant, order: PurchaseOrder, *actions: str) -> PurchaseOrder:
            def run() -> PurchaseOrder:
                current = order
                for action in actions:
                    fn = getattr(lifecycle, f"purchase_order_{action}")
                    extra = {"reason": "No budget"} if action == "reject" else {}
                    current = fn(purchase_order=current, token_id=None, **extra)
                return current

            return in_tenant(tenant, run)

    return Builders()


FROZEN_AT = "2025-03-10T09:15:00Z"


@pytest.fixture
def frozen() -> Any:
    """Pin the clock at FROZEN_AT (12:15 in Riyadh) so timestamps in bodies are exact."""
    from datetime import UTC, datetime
    from unittest import mock

    moment = datetime(2025, 3, 10, 9, 15, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield moment


@pytest.fixture
def awkward_orders(make: Any, acme: Tenant) -> None:
    """Five acme orders with values that are easy to render wrong: quotes, backslashes, tabs,
    Arabic, U+2028, emoji, empty optionals, extreme quantities and prices, every status path."""
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
