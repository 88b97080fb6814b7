"""List filters of the contract; a value that cannot be read is a 422, never a 500."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend

from procurement.models import PurchaseOrder, Vendor

MAX_ID = 2**63 - 1


class DateOrDateTimeField(forms.Field):
    """``2025-01-31`` or a full ISO 8601 timestamp; returns ``(datetime, was_a_date)``.

    Dates are whole days in the server's time zone; timestamps without an offset are read in
    that zone too.
    """

    default_error_messages = {
        "invalid": _("Enter a date (YYYY-MM-DD) or an ISO 8601 date-time."),
    }
    # What the OpenAPI schema documents (waqti.api.schema): either one is accepted.
    schema_formats = ("date", "date-time")

    def to_python(self, value: Any) -> tuple[datetime, bool] | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            day = parse_date(text)
            if day is not None:
                return timezone.make_aware(datetime.combine(day, time.min)), True
            moment = parse_datetime(text)
        except ValueError:
            moment = None
        if moment is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment, False


class CreatedFromFilter(django_filters.Filter):
    field_class = DateOrDateTimeField

    def filter(self, qs: QuerySet, value: tuple[datetime, bool] | None) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(created_at__gte=value[0])


class CreatedToFilter(django_filters.Filter):
    """Inclusive: ``created_to=2025-01-31`` keeps orders created any time that day."""

    field_class = DateOrDateTimeField

    def filter(self, qs: QuerySet, value: tuple[datetime, bool] | None) -> QuerySet:
        if value is None:
            return qs
        moment, was_a_date = value
        if was_a_date:
            try:
                return qs.filter(created_at__lt=moment + timedelta(days=1))
            except OverflowError:  # 9999-12-31: the whole last day, so no end at all
                return qs
        return qs.filter(created_at__lte=moment)


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class AmountFilter(django_filters.NumberFilter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 20)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)


def _search(fields: tuple[str, ...]) -> Any:
    def method(queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)

    return method


class VendorFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Vendor.Status.choices)
    category = django_filters.CharFilter(field_name="category", lookup_expr="iexact")
    search = django_filters.CharFilter(method=_search(("name", "email")), max_length=255)

    class Meta:
        model = Vendor
        fields = ["status", "category", "search"]


class PurchaseOrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PurchaseOrder.Status.choices)
    vendor_id = IdFilter(field_name="vendor_id")
    department_id = IdFilter(field_name="department_id")
    created_from = CreatedFromFilter()
    created_to = CreatedToFilter()
    min_amount = AmountFilter(field_name="total_amount", lookup_expr="gte")
    max_amount = AmountFilter(field_name="total_amount", lookup_expr="lte")
    search = django_filters.CharFilter(method=_search(("po_number", "notes")), max_length=255)

    class Meta:
        model = PurchaseOrder
        fields = [
            "status",
            "vendor_id",
            "department_id",
            "created_from",
            "created_to",
            "min_amount",
            "max_amount",
            "search",
        ]


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, skipping the form when the query names none of the filters.

    With no filter parameter every filter sees an empty value and returns the queryset as is;
    building and validating the form for that was about a tenth of a list request.
    """

    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not (
            request.query_params.keys() & filterset_class.base_filters.keys()
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
