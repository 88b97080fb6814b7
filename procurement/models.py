"""Departments, vendors, purchase orders with their lines and audit trail (tenant schema)."""

from __future__ import annotations

from django.db import models
from django.db.models import Prefetch
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 20, "decimal_places": 2}


class Department(models.Model):
    name = models.CharField(max_length=255)
    name_ar = models.CharField(max_length=255, blank=True, default="")
    # Unique per tenant (the table lives in the tenant's schema), ignoring letter case.
    code = models.CharField(max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("code"), name="procurement_department_code_ci_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Vendor(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
        BLOCKED = "blocked", _("Blocked")

    name = models.CharField(max_length=255)
    name_ar = models.CharField(max_length=255, blank=True, default="")
    email = models.EmailField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    vat_number = models.CharField(max_length=15, blank=True, default="")
    cr_number = models.CharField(max_length=10, blank=True, default="")
    category = models.CharField(max_length=100, blank=True, default="", db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    payment_terms = models.PositiveSmallIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="SAR")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class PurchaseOrderQuerySet(models.QuerySet["PurchaseOrder"]):
    def with_details(self) -> PurchaseOrderQuerySet:
        """Vendor, department and ordered lines in a fixed number of queries, whatever the page."""
        return self.select_related("vendor", "department").prefetch_related(
            Prefetch("items", queryset=PurchaseOrderItem.objects.order_by("line_number"))
        )


class PurchaseOrder(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")
        COMPLETED = "completed", _("Completed")

    po_number = models.CharField(max_length=32, unique=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="purchase_orders")
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="purchase_orders"
    )
    currency = models.CharField(max_length=3, default="SAR")
    notes = models.TextField(blank=True, default="")
    delivery_address = models.TextField(blank=True, default="")
    expected_delivery_date = models.DateField(null=True, blank=True)
    subtotal = models.DecimalField(**MONEY, default=0)
    vat_amount = models.DecimalField(**MONEY, default=0)
    total_amount = models.DecimalField(**MONEY, default=0, db_index=True)
    # Set by the service to the instant that also picked the po_number's year.
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True, default="")
    approval_comments = models.TextField(blank=True, default="")

    objects = PurchaseOrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.po_number


# The fields of a line in every output, in order (serializer and ``procurement.list_rows``).
ITEM_FIELDS = (
    "id",
    "line_number",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "vat_rate",
    "subtotal",
    "vat_amount",
    "total",
)


class PurchaseOrderItem(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="items"
    )
    line_number = models.PositiveIntegerField()
    description = models.CharField(max_length=1000)
    quantity = models.DecimalField(max_digits=15, decimal_places=3)
    unit = models.CharField(max_length=32, blank=True, default="")
    unit_price = models.DecimalField(max_digits=19, decimal_places=4)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, default=15)
    subtotal = models.DecimalField(**MONEY)
    vat_amount = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["purchase_order_id", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_order", "line_number"], name="procurement_item_line_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purchase_order_id}#{self.line_number}"


class PurchaseOrderEvent(models.Model):
    """Audit trail: every lifecycle action with the token that performed it.

    ``token_id`` is a plain integer, not a foreign key, so the history outlives pruned tokens.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")
        COMPLETED = "completed", _("Completed")

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20)
    token_id = models.BigIntegerField(null=True, blank=True)
    note = models.TextField(blank=True, default="")
    # An approval or rejection by the token that created or submitted the order, which only the
    # tenant's approval policy can allow (``procurement.separation``).
    separation_waived = models.BooleanField(default=False)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.purchase_order_id} {self.kind}"


class ApprovalPolicy(models.Model):
    """The tenant's approval policy (``procurement.separation``): at most one row, id 1,
    created by the first change; without it the defaults apply."""

    SINGLETON_ID = 1

    # Maker-checker: the token that created or submitted an order may not approve or reject it.
    separation_of_duties = models.BooleanField(default=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "approval policy"
        verbose_name_plural = "approval policy"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id=1), name="procurement_approval_policy_single_row"
            )
        ]

    def __str__(self) -> str:
        return "Approval policy"


class ApprovalPolicyEvent(models.Model):
    """Audit trail of the approval policy: which token changed it, when, and to what."""

    token_id = models.BigIntegerField(null=True, blank=True)
    separation_of_duties = models.BooleanField()  # the value it was set to
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"separation_of_duties={self.separation_of_duties} at {self.occurred_at}"


class PurchaseOrderCounter(models.Model):
    """The last ``po_number`` sequence handed out per calendar year; locked while numbering.

    A sequence would leave gaps on rollback; a row updated inside the creating transaction
    cannot.
    """

    year = models.PositiveSmallIntegerField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"
