"""Procurement API shapes: inputs list their writable fields; outputs follow the contract."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.settings import api_settings

from procurement.models import ITEM_FIELDS, Department, PurchaseOrder, PurchaseOrderItem, Vendor
from procurement.money import line_amounts
from procurement.services import VENDOR_FIELDS, LineInput
from waqti.api.serializers import ApiModelSerializer, UtcDateTimeField

# A single line may not exceed this total, so that up to MAX_ITEMS lines always fit the columns.
MAX_LINE_TOTAL = Decimal("1e15")
MAX_ITEMS = 500

# --- Input building blocks -----------------------------------------------------------------------


class _BlankAsEmpty:
    """Optional text: absent, null and "" all mean "none", stored as ""."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:
            return True, ""
        return super().validate_empty_values(data)  # type: ignore[misc]


class OptionalCharField(_BlankAsEmpty, serializers.CharField):
    pass


class OptionalRegexField(_BlankAsEmpty, serializers.RegexField):
    pass


class OptionalEmailField(_BlankAsEmpty, serializers.EmailField):
    pass


class CurrencyField(serializers.RegexField):
    """ISO 4217 code; ``sar`` is read as ``SAR``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"invalid": _("The currency must be a 3-letter code.")})
        super().__init__(r"^[A-Za-z]{3}$", **kwargs)

    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(data).upper()


class DecimalInputField(serializers.DecimalField):
    """A decimal sent as a JSON number or a string; trailing zeros do not count as places."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)

    def validate_precision(self, value: Decimal) -> Decimal:
        super().validate_precision(value.normalize())
        return value


class IdField(serializers.IntegerField):
    """A reference by id; whether it exists in this tenant is the service's call."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"invalid": _("The id must be an integer.")})
        super().__init__(**kwargs)


class PatchableSerializer(serializers.Serializer):
    """Input serializer whose top-level fields all become optional for PATCH.

    DRF's ``partial=True`` would also relax nested serializers, so a PATCH could send items
    without a quantity; here only the top level is relaxed and nested items stay complete.
    """

    def __init__(self, *args: Any, patch: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if patch:
            for field in self.fields.values():
                field.required = False
                # Defaults would overwrite stored values that the PATCH did not mention.
                field.default = serializers.empty


# --- Departments ---------------------------------------------------------------------------------


class DepartmentInputSerializer(PatchableSerializer):
    name = serializers.CharField(max_length=255)
    name_ar = OptionalCharField(max_length=255)
    code = serializers.CharField(max_length=50)


class _BlankAsNullOutput:
    """Renders optional text that is empty as ``null`` (fields named in ``blank_as_null``), and
    documents those fields as nullable in the OpenAPI schema."""

    blank_as_null: tuple[str, ...] = ()

    def get_extra_kwargs(self) -> dict[str, Any]:
        extra = super().get_extra_kwargs()  # type: ignore[misc]
        for field in self.blank_as_null:
            extra[field] = {**extra.get(field, {}), "allow_null": True}
        return extra

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)  # type: ignore[misc]
        for field in self.blank_as_null:
            if data.get(field) == "":
                data[field] = None
        return data


class DepartmentSerializer(_BlankAsNullOutput, ApiModelSerializer):
    blank_as_null = ("name_ar",)

    class Meta:
        model = Department
        fields = ["id", "name", "name_ar", "code", "created_at", "updated_at"]


# --- Vendors -------------------------------------------------------------------------------------


class VendorInputSerializer(PatchableSerializer):
    name = serializers.CharField(max_length=255)
    name_ar = OptionalCharField(max_length=255)
    email = OptionalEmailField(max_length=254)
    phone = OptionalRegexField(
        r"^\+?[0-9][0-9 ()-]{5,30}$",
        max_length=32,
        error_messages={
            "invalid": _("The phone must be a phone number (digits, spaces, + - ( )).")
        },
    )
    vat_number = OptionalRegexField(
        r"^[0-9]{15}$", error_messages={"invalid": _("The vat number must be exactly 15 digits.")}
    )
    cr_number = OptionalRegexField(
        r"^[0-9]{10}$", error_messages={"invalid": _("The cr number must be exactly 10 digits.")}
    )
    category = OptionalCharField(max_length=100)
    status = serializers.ChoiceField(choices=Vendor.Status.choices, required=False)
    payment_terms = serializers.IntegerField(
        min_value=0,
        max_value=365,
        required=False,
        allow_null=True,
        error_messages={
            "min_value": _("The payment terms must be between 0 and 365 days."),
            "max_value": _("The payment terms must be between 0 and 365 days."),
        },
    )
    currency = CurrencyField(required=False)


class VendorSerializer(_BlankAsNullOutput, ApiModelSerializer):
    blank_as_null = ("name_ar", "email", "phone", "vat_number", "cr_number", "category")

    class Meta:
        model = Vendor
        fields = ["id", *VENDOR_FIELDS, "created_at", "updated_at"]


# --- Purchase orders -----------------------------------------------------------------------------


class ItemListSerializer(serializers.ListSerializer):
    """Reports list-level errors (empty, too long, not a list) on ``items`` itself.

    DRF files them under ``items.non_field_errors``; clients expect the field name.
    """

    def run_validation(self, data: Any = serializers.empty) -> Any:
        try:
            return super().run_validation(data)
        except serializers.ValidationError as exc:
            detail = exc.detail
            if isinstance(detail, dict) and list(detail) == [api_settings.NON_FIELD_ERRORS_KEY]:
                raise serializers.ValidationError(
                    detail[api_settings.NON_FIELD_ERRORS_KEY]
                ) from exc
            raise


class ItemInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=1000)
    quantity = DecimalInputField(max_digits=12, decimal_places=3)
    unit = OptionalCharField(max_length=32)
    unit_price = DecimalInputField(
        max_digits=15,
        decimal_places=4,
        min_value=Decimal("0"),
        error_messages={"min_value": _("The unit price must not be negative.")},
    )
    vat_rate = DecimalInputField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        default=Decimal("15"),
        error_messages={
            "min_value": _("The VAT rate must be between 0 and 100."),
            "max_value": _("The VAT rate must be between 0 and 100."),
        },
    )

    class Meta:
        list_serializer_class = ItemListSerializer

    def validate_quantity(self, value: Decimal) -> Decimal:
        if value <= 0:
            raise serializers.ValidationError(_("The quantity must be greater than 0."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        amounts = line_amounts(attrs["quantity"], attrs["unit_price"], attrs["vat_rate"])
        if amounts.total >= MAX_LINE_TOTAL:
            raise serializers.ValidationError(
                {"total": [_("The line total must be less than 1,000,000,000,000,000.")]}
            )
        return attrs


class PurchaseOrderInputSerializer(PatchableSerializer):
    vendor_id = IdField()
    department_id = IdField()
    currency = CurrencyField(required=False)
    notes = OptionalCharField(max_length=5000)
    delivery_address = OptionalCharField(max_length=1000)
    expected_delivery_date = serializers.DateField(
        required=False,
        allow_null=True,
        error_messages={"invalid": _("The expected delivery date must be a date (YYYY-MM-DD).")},
    )
    items = ItemInputSerializer(
        many=True,
        allow_empty=False,
        max_length=MAX_ITEMS,
        error_messages={
            "empty": _("A purchase order needs at least one item."),
            "max_length": _("A purchase order can have at most {max_length} items."),
            "not_a_list": _("The items must be a list."),
        },
    )

    def service_kwargs(self) -> dict[str, Any]:
        """Validated data as keyword arguments of the purchase-order services."""
        data = dict(self.validated_data)
        if "items" in data:
            data["items"] = [LineInput(**item) for item in data["items"]]
        return data


class ApproveInputSerializer(serializers.Serializer):
    comments = OptionalCharField(max_length=2000)


class RejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000,
        error_messages={
            "required": _("A reason is required to reject a purchase order."),
            "blank": _("A reason is required to reject a purchase order."),
            "null": _("A reason is required to reject a purchase order."),
        },
    )


class _Reference(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PurchaseOrderItemSerializer(_BlankAsNullOutput, ApiModelSerializer):
    blank_as_null = ("unit",)

    class Meta:
        model = PurchaseOrderItem
        fields = list(ITEM_FIELDS)


class PurchaseOrderSerializer(_BlankAsNullOutput, ApiModelSerializer):
    blank_as_null = ("notes", "delivery_address", "rejection_reason")
    vendor = _Reference()
    department = _Reference()
    items = PurchaseOrderItemSerializer(many=True)

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "po_number",
            "status",
            "vendor",
            "department",
            "currency",
            "notes",
            "delivery_address",
            "expected_delivery_date",
            "items",
            "subtotal",
            "vat_amount",
            "total_amount",
            "created_at",
            "updated_at",
            "submitted_at",
            "approved_at",
            "rejected_at",
            "rejection_reason",
        ]


class ApprovalPolicySerializer(serializers.Serializer):
    """``PUT /api/v1/approval-policy``."""

    separation_of_duties = serializers.BooleanField(
        help_text="Maker-checker: the token that created or submitted a purchase order cannot "
        "approve or reject it (403). False lets it; such actions are recorded as waived."
    )


class ApprovalPolicyChangeSerializer(serializers.Serializer):
    """One recorded change of the approval policy."""

    occurred_at = UtcDateTimeField()
    token_id = serializers.IntegerField(allow_null=True)
    separation_of_duties = serializers.BooleanField()


class ApprovalPolicyOutputSerializer(serializers.Serializer):
    """The tenant's approval policy with its recent changes (newest first)."""

    separation_of_duties = serializers.BooleanField()
    updated_at = UtcDateTimeField(allow_null=True)
    changes = ApprovalPolicyChangeSerializer(many=True)
