"""List sorting: ``sort_by``/``sort_order`` (aliases ``sort``/``order``), default newest first."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from waqti.api.exceptions import InvalidData

DEFAULT_SORT = "created_at"
DEFAULT_ORDER = "desc"
ORDERS = ("asc", "desc")


def _given(request: Request, name: str, alias: str) -> dict[str, str]:
    """The values of ``name`` and of its alias that the request gives, by parameter name."""
    given = {}
    for key in (name, alias):
        value = request.query_params.get(key)
        if value is not None:
            given[key] = value.strip()
    return given


def _invalid(given: dict[str, str], allowed: Collection[str]) -> dict[str, list[str]]:
    """A 422 entry for each given parameter (the name or its alias) outside ``allowed``."""
    return {
        key: [
            _("The %(param)s must be one of: %(allowed)s.")
            % {"param": key, "allowed": ", ".join(allowed)}
        ]
        for key, value in given.items()
        if value not in allowed
    }


def sort_queryset(
    request: Request, queryset: QuerySet, fields: Mapping[str, str], default: str = DEFAULT_SORT
) -> QuerySet:
    """Order ``queryset`` as the request asks.

    ``fields`` maps the names clients may sort by to ORM expressions. The primary key breaks
    ties in the same direction, so pages never overlap or skip rows. An unknown field or order
    raises a 422 naming what is allowed.
    """
    sorts = {key: value or default for key, value in _given(request, "sort_by", "sort").items()}
    orders = {
        key: (value or DEFAULT_ORDER).lower()
        for key, value in _given(request, "sort_order", "order").items()
    }
    # Each given parameter is checked, the alias too when the name is also given (and wins).
    errors = {**_invalid(sorts, fields), **_invalid(orders, ORDERS)}
    if errors:
        raise InvalidData(errors)
    sort_by = next(iter(sorts.values()), default)
    order = next(iter(orders.values()), DEFAULT_ORDER)
    sign = "-" if order == "desc" else ""
    return queryset.order_by(f"{sign}{fields[sort_by]}", f"{sign}pk")


class SortingFilter(BaseFilterBackend):
    """Filter backend that applies ``sort_queryset`` with the view's ``sort_fields``.

    ``sort_fields`` is either a list of model field names or a mapping of public names to ORM
    expressions (``{"vendor": "vendor__name"}``).
    """

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        fields = getattr(view, "sort_fields", None) or [DEFAULT_SORT]
        if not isinstance(fields, Mapping):
            fields = {name: name for name in fields}
        return sort_queryset(request, queryset, fields, getattr(view, "default_sort", DEFAULT_SORT))

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        fields = list(getattr(view, "sort_fields", None) or [DEFAULT_SORT])
        sort = {"type": "string", "enum": fields, "default": DEFAULT_SORT}
        order = {"type": "string", "enum": list(ORDERS), "default": DEFAULT_ORDER}
        return [
            {"name": "sort_by", "in": "query", "required": False, "schema": sort},
            {"name": "sort_order", "in": "query", "required": False, "schema": order},
            {
                "name": "sort",
                "in": "query",
                "required": False,
                "schema": sort,
                "description": "Alias of sort_by.",
            },
            {
                "name": "order",
                "in": "query",
                "required": False,
                "schema": order,
                "description": "Alias of sort_order.",
            },
        ]
