"""Demo procurement data for ``seed_demo``, created through the real services (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from procurement import lifecycle, services
from procurement.models import Department, PurchaseOrder, Vendor
from procurement.services import LineInput

DEPARTMENTS = [
    # code, name, name_ar
    ("IT", "Information Technology", "تقنية المعلومات"),
    ("FIN", "Finance", "المالية"),
    ("OPS", "Operations", "العمليات"),
    ("HR", "Human Resources", "الموارد البشرية"),
    ("FAC", "Facilities", "المرافق"),
]

VENDORS = [
    # name, name_ar, category, status, vat_number, cr_number, email, payment_terms
    (
        "Al Faisal IT Solutions",
        "الفيصل لحلول التقنية",
        "IT",
        "active",
        "300012345600003",
        "1010123456",
        "sales@alfaisal-it.sa",
        30,
    ),
    (
        "Riyadh Office Supplies",
        "الرياض للأدوات المكتبية",
        "Office",
        "active",
        "300023456700003",
        "1010234567",
        "orders@riyadhoffice.sa",
        15,
    ),
    (
        "Jeddah Logistics Co.",
        "شركة جدة للخدمات اللوجستية",
        "Logistics",
        "active",
        "300034567800003",
        "4030345678",
        "ops@jeddahlogistics.sa",
        45,
    ),
    (
        "Dammam Industrial Equipment",
        "الدمام للمعدات الصناعية",
        "Equipment",
        "active",
        "300045678900003",
        "2050456789",
        "info@dammam-equip.sa",
        60,
    ),
    (
        "Najd Cleaning Services",
        "نجد لخدمات النظافة",
        "Facilities",
        "active",
        "300056789000003",
        "1010567890",
        "contact@najdclean.sa",
        30,
    ),
    (
        "Gulf Furniture Trading",
        "الخليج لتجارة الأثاث",
        "Furniture",
        "active",
        "300067890100003",
        "1010678901",
        "sales@gulffurniture.sa",
        30,
    ),
    (
        "Makkah Catering",
        "مكة للإعاشة",
        "Catering",
        "active",
        "300078901200003",
        "4031789012",
        "events@makkahcatering.sa",
        15,
    ),
    (
        "Eastern Security Systems",
        "الشرقية لأنظمة الأمن",
        "Security",
        "inactive",
        "300089012300003",
        "2050890123",
        "support@eastsec.sa",
        30,
    ),
    (
        "Tabuk Print House",
        "دار تبوك للطباعة",
        "Printing",
        "inactive",
        "300090123400003",
        "3550901234",
        "print@tabukprint.sa",
        30,
    ),
    (
        "Desert Trading Est.",
        "مؤسسة الصحراء التجارية",
        "General",
        "blocked",
        "300001234500003",
        "1010012345",
        "info@deserttrading.sa",
        0,
    ),
]

# description, unit, unit_price, vat_rate — picked from by each order.
CATALOGUE = [
    ("Laptop, 14-inch business model", "unit", Decimal("4250.00"), Decimal("15")),
    ("27-inch monitor", "unit", Decimal("1150.00"), Decimal("15")),
    ("A4 copy paper, box of 5 reams", "box", Decimal("89.50"), Decimal("15")),
    ("Office chair, ergonomic", "unit", Decimal("975.00"), Decimal("15")),
    ("Freight Riyadh-Jeddah, full truck", "trip", Decimal("3200.00"), Decimal("15")),
    ("Cleaning services, monthly", "month", Decimal("7800.00"), Decimal("15")),
    ("Forklift maintenance visit", "visit", Decimal("1450.00"), Decimal("15")),
    ("Staff lunch catering", "person", Decimal("45.75"), Decimal("15")),
    ("Network switch, 48 ports", "unit", Decimal("6325.00"), Decimal("15")),
    ("Medical insurance card printing", "card", Decimal("3.335"), Decimal("0")),
]

# The status each demo order is walked to, in creation order (25 orders, every status).
LIFECYCLE = (
    ["draft"] * 5
    + ["pending_approval"] * 5
    + ["approved"] * 5
    + ["completed"] * 4
    + ["rejected"] * 3
    + ["cancelled"] * 3
)


@dataclass(frozen=True)
class DemoSummary:
    departments: int
    vendors: int
    purchase_orders: int
    created: bool


def _walk(order: PurchaseOrder, target: str, index: int, token_id: int | None) -> None:
    """Take a fresh draft to ``target`` through the lifecycle services.

    ``token_id`` makes and submits the orders; approvals and rejections are recorded without a
    token, as the operator's: separation of duties (``procurement.separation``) refuses them to
    the token that made the order."""
    if target == "draft":
        return
    if target == "cancelled" and index % 2 == 0:
        lifecycle.purchase_order_cancel(purchase_order=order, token_id=token_id)
        return
    lifecycle.purchase_order_submit(purchase_order=order, token_id=token_id)
    if target == "pending_approval":
        return
    if target == "cancelled":
        lifecycle.purchase_order_cancel(purchase_order=order, token_id=token_id)
    elif target == "rejected":
        lifecycle.purchase_order_reject(
            purchase_order=order,
            reason="Budget exceeded for this quarter; re-quote.",
            token_id=None,
        )
    else:
        lifecycle.purchase_order_approve(
            purchase_order=order, comments="Within budget.", token_id=None
        )
        if target == "completed":
            lifecycle.purchase_order_complete(purchase_order=order, token_id=token_id)


def seed_demo_data(*, token_id: int | None = None) -> DemoSummary:
    """Departments, vendors and 25 orders in every status; a second run adds nothing.

    Runs in the current tenant. Departments and vendors are matched by code and VAT number;
    orders are only seeded into a tenant that has none yet.
    """
    created = False
    with transaction.atomic():
        departments = []
        for code, name, name_ar in DEPARTMENTS:
            department = Department.objects.filter(code__iexact=code).first()
            if department is None:
                department = services.department_create(name=name, code=code, name_ar=name_ar)
                created = True
            departments.append(department)
        active_vendors = []
        for name, name_ar, category, status, vat, cr, email, terms in VENDORS:
            vendor = Vendor.objects.filter(vat_number=vat).first()
            if vendor is None:
                # Created active so orders can be raised; the final status is set afterwards.
                vendor = services.vendor_create(
                    name=name,
                    name_ar=name_ar,
                    category=category,
                    vat_number=vat,
                    cr_number=cr,
                    email=email,
                    payment_terms=terms,
                    phone="+966 11 000 0000",
                )
                if status != Vendor.Status.ACTIVE:
                    services.vendor_update(vendor=vendor, status=status)
                created = True
            if vendor.status == Vendor.Status.ACTIVE:
                active_vendors.append(vendor)
        if not PurchaseOrder.objects.exists() and active_vendors:
            today = timezone.localdate()
            for index, target in enumerate(LIFECYCLE):
                lines = [
                    LineInput(
                        description=description,
                        quantity=Decimal(1 + (index + offset) % 12),
                        unit=unit,
                        unit_price=price,
                        vat_rate=rate,
                    )
                    for offset, (description, unit, price, rate) in enumerate(
                        CATALOGUE[index % len(CATALOGUE) :][: 1 + index % 3]
                    )
                ]
                order = services.purchase_order_create(
                    vendor_id=active_vendors[index % len(active_vendors)].pk,
                    department_id=departments[index % len(departments)].pk,
                    items=lines,
                    notes=f"Demo order {index + 1}",
                    delivery_address="King Fahd Road, Riyadh 12271",
                    expected_delivery_date=today + timedelta(days=7 + index),
                    token_id=token_id,
                )
                _walk(order, target, index, token_id)
            created = True
    return DemoSummary(
        departments=Department.objects.count(),
        vendors=Vendor.objects.count(),
        purchase_orders=PurchaseOrder.objects.count(),
        created=created,
    )
