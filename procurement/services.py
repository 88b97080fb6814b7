"""Procurement business writes: departments, vendors, and creating and editing purchase orders.

The orders' status machine (submit, approve, ...) is ``procurement.lifecycle``; edits and deletes
here ask it whether the order's status allows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from procurement.lifecycle import locked_for, record_event
from procurement.models import (
    Department,
    PurchaseOrder,
    PurchaseOrderCounter,
    PurchaseOrderEvent,
    PurchaseOrderItem,
    Vendor,
)
from procurement.money import line_amounts, order_amounts
from waqti.domain_events import occurred
from waqti.errors import InvalidInput, StateConflict

# --- Departments ---------------------------------------------------------------------------------

DEPARTMENT_FIELDS = ("name", "name_ar", "code")


def _code_taken() -> InvalidInput:
    return InvalidInput(errors={"code": [_("The code has already been taken.")]})


def _save_department(department: Department) -> Department:
    if Department.objects.filter(code__iexact=department.code).exclude(pk=department.pk).exists():
        raise _code_taken()
    try:
        # The savepoint keeps an outer transaction usable when a concurrent insert wins the race.
        with transaction.atomic():
            department.save()
    except IntegrityError as exc:
        raise _code_taken() from exc
    return department


def department_create(*, name: str, code: str, name_ar: str = "") -> Department:
    """Create a department; its code is unique in the tenant, ignoring letter case."""
    with transaction.atomic():
        department = _save_department(Department(name=name, code=code, name_ar=name_ar))
        occurred.send(sender=Department, type="department.created", resource=department)
    return department


def department_update(*, department: Department, **changes: Any) -> Department:
    """Change any of name, name_ar, code."""
    for field, value in changes.items():
        if field not in DEPARTMENT_FIELDS:
            raise TypeError(f"department_update() got an unexpected field {field!r}")
        setattr(department, field, value)
    with transaction.atomic():
        _save_department(department)
        occurred.send(sender=Department, type="department.updated", resource=department)
    return department


def department_delete(*, department: Department) -> None:
    """Delete a department no purchase order refers to."""
    try:
        department.delete()
    except ProtectedError as exc:
        raise StateConflict(
            _("The department has purchase orders and cannot be deleted."),
            {"department": [_("Referenced by purchase orders.")]},
        ) from exc


# --- Vendors -------------------------------------------------------------------------------------

VENDOR_FIELDS = (
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
)


def vendor_create(*, name: str, **fields: Any) -> Vendor:
    """Create a vendor (``status`` defaults to active)."""
    vendor = Vendor(name=name)
    return vendor_update(vendor=vendor, **fields)


def vendor_update(*, vendor: Vendor, **changes: Any) -> Vendor:
    """Change any vendor field; a vendor that is not active cannot receive new orders."""
    for field, value in changes.items():
        if field not in VENDOR_FIELDS:
            raise TypeError(f"vendor_update() got an unexpected field {field!r}")
        setattr(vendor, field, value)
    event = "vendor.created" if vendor.pk is None else "vendor.updated"
    with transaction.atomic():
        vendor.save()
        occurred.send(sender=Vendor, type=event, resource=vendor)
    return vendor


def vendor_delete(*, vendor: Vendor) -> None:
    """Delete a vendor no purchase order refers to (block it instead to keep history)."""
    try:
        vendor.delete()
    except ProtectedError as exc:
        raise StateConflict(
            _("The vendor has purchase orders and cannot be deleted."),
            {
                "vendor": [
                    _("Referenced by purchase orders; set its status to inactive or blocked.")
                ]
            },
        ) from exc


# --- Purchase orders -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    """One requested order line, already validated for shape (positive quantity, ...)."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal = Decimal("15")
    unit: str = ""


ORDER_FIELDS = ("currency", "notes", "delivery_address", "expected_delivery_date")


def _resolve_vendor(vendor_id: int) -> Vendor:
    vendor = Vendor.objects.filter(pk=vendor_id).first()
    if vendor is None:
        raise InvalidInput(errors={"vendor_id": [_("The selected vendor id is invalid.")]})
    if vendor.status != Vendor.Status.ACTIVE:
        raise InvalidInput(
            errors={
                "vendor_id": [
                    _(
                        "The selected vendor is %(status)s; only an active vendor can "
                        "receive a purchase order."
                    )
                    % {"status": vendor.status}
                ]
            }
        )
    return vendor


def _resolve_department(department_id: int) -> Department:
    department = Department.objects.filter(pk=department_id).first()
    if department is None:
        raise InvalidInput(errors={"department_id": [_("The selected department id is invalid.")]})
    return department


def _next_po_number(now: datetime) -> str:
    """Take the next number of the current year; must run inside the creating transaction.

    The counter row stays locked (SELECT ... FOR UPDATE) until that transaction ends, so
    concurrent creates queue up here and a rolled-back create gives its number back.
    """
    year = timezone.localtime(now).year
    PurchaseOrderCounter.objects.bulk_create(
        [PurchaseOrderCounter(year=year, last_number=0)], ignore_conflicts=True
    )
    counter = PurchaseOrderCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"PO-{year}-{counter.last_number:04d}"


def _replace_lines(order: PurchaseOrder, lines: Sequence[LineInput]) -> None:
    """Replace all lines and recompute the header from them."""
    order.items.all().delete()
    items, line_totals = [], []
    for number, line in enumerate(lines, start=1):
        amounts = line_amounts(line.quantity, line.unit_price, line.vat_rate)
        line_totals.append(amounts)
        items.append(
            PurchaseOrderItem(
                purchase_order=order,
                line_number=number,
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                vat_rate=line.vat_rate,
                subtotal=amounts.subtotal,
                vat_amount=amounts.vat_amount,
                total=amounts.total,
            )
        )
    PurchaseOrderItem.objects.bulk_create(items)
    totals = order_amounts(line_totals)
    order.subtotal, order.vat_amount, order.total_amount = (
        totals.subtotal,
        totals.vat_amount,
        totals.total,
    )


def purchase_order_create(
    *,
    vendor_id: int,
    department_id: int,
    items: Sequence[LineInput],
    currency: str = "SAR",
    notes: str = "",
    delivery_address: str = "",
    expected_delivery_date: date | None = None,
    token_id: int | None = None,
) -> PurchaseOrder:
    """Create a draft order for an active vendor with its next ``PO-{year}-{seq:04d}`` number."""
    if not items:
        raise InvalidInput(errors={"items": [_("A purchase order needs at least one item.")]})
    with transaction.atomic():
        vendor = _resolve_vendor(vendor_id)
        department = _resolve_department(department_id)
        now = timezone.now()
        order = PurchaseOrder(
            po_number=_next_po_number(now),
            vendor=vendor,
            department=department,
            currency=currency,
            notes=notes,
            delivery_address=delivery_address,
            expected_delivery_date=expected_delivery_date,
            # The same instant decides the number's year and the creation time.
            created_at=now,
        )
        order.save()
        _replace_lines(order, items)
        order.save(update_fields=["subtotal", "vat_amount", "total_amount"])
        record_event(order, PurchaseOrderEvent.Kind.CREATED, "", token_id)
    return order


def purchase_order_update(
    *,
    purchase_order: PurchaseOrder,
    vendor_id: int | None = None,
    department_id: int | None = None,
    items: Sequence[LineInput] | None = None,
    token_id: int | None = None,
    **changes: Any,
) -> PurchaseOrder:
    """Edit a draft; given ``items`` replace all lines and the totals are recomputed."""
    for field in changes:
        if field not in ORDER_FIELDS:
            raise TypeError(f"purchase_order_update() got an unexpected field {field!r}")
    if items is not None and not items:
        raise InvalidInput(errors={"items": [_("A purchase order needs at least one item.")]})
    with transaction.atomic():
        order = locked_for(purchase_order, "edit")
        if vendor_id is not None and vendor_id != order.vendor_id:
            order.vendor = _resolve_vendor(vendor_id)
        if department_id is not None:
            order.department = _resolve_department(department_id)
        for field, value in changes.items():
            setattr(order, field, value)
        if items is not None:
            _replace_lines(order, items)
        order.save()
        record_event(order, PurchaseOrderEvent.Kind.UPDATED, PurchaseOrder.Status.DRAFT, token_id)
    return order


def purchase_order_delete(*, purchase_order: PurchaseOrder) -> None:
    """Delete a draft; its number is never handed out again."""
    with transaction.atomic():
        locked_for(purchase_order, "delete").delete()
