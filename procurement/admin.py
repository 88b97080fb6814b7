"""Tenant admin pages for procurement data; totals and numbers are read-only (services own them)."""

from django.contrib import admin

from procurement.models import (
    Department,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderItem,
    Vendor,
)
from waqti.admin_sites import tenant_site


@admin.register(Department, site=tenant_site)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_ar", "created_at"]
    search_fields = ["code", "name", "name_ar"]


@admin.register(Vendor, site=tenant_site)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "category", "vat_number", "created_at"]
    list_filter = ["status", "category"]
    search_fields = ["name", "name_ar", "email", "vat_number", "cr_number"]


class PurchaseOrderItemInline(admin.TabularInline):
    model = PurchaseOrderItem
    extra = 0
    can_delete = False
    readonly_fields = [
        "line_number",
        "description",
        "quantity",
        "unit",
        "unit_price",
        "vat_rate",
        "subtotal",
        "vat_amount",
        "total",
    ]

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


class PurchaseOrderEventInline(admin.TabularInline):
    model = PurchaseOrderEvent
    extra = 0
    can_delete = False
    readonly_fields = [
        "kind",
        "from_status",
        "to_status",
        "token_id",
        "note",
        "separation_waived",
        "occurred_at",
    ]

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(PurchaseOrder, site=tenant_site)
class PurchaseOrderAdmin(admin.ModelAdmin):
    """Read-mostly: numbering, totals and status changes go through the API's services."""

    list_display = ["po_number", "status", "vendor", "department", "total_amount", "created_at"]
    list_filter = ["status"]
    search_fields = ["po_number", "notes"]
    list_select_related = ["vendor", "department"]
    inlines = [PurchaseOrderItemInline, PurchaseOrderEventInline]
    readonly_fields = [
        "po_number",
        "status",
        "vendor",
        "department",
        "subtotal",
        "vat_amount",
        "total_amount",
        "created_at",
        "submitted_at",
        "approved_at",
        "rejected_at",
        "cancelled_at",
        "completed_at",
        "rejection_reason",
        "approval_comments",
    ]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
