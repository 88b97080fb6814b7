"""List sorting: ``sort_by``/``sort_order`` (aliases ``sort``/``order``), default newest first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from waqti.api.exceptions import InvalidData

DEFAULT_SORT = "created_at"
DEFAULT_ORDER = "desc"
ORDERS = ("asc", "desc")


def _param(request: Request, name: str, alias: str) -> tuple[str, str | None]:
    """The value of ``name``, else of its alias, with the parameter name the client used."""
    for key in (name, alias):
        value = request.query_params.get(key)
        if value is not None:
            return key, value.strip()
    return name, None


def sort_queryset(
    request: Request, queryset: QuerySet, fields: Mapping[str, str], default: str = DEFAULT_SORT
) -> QuerySet:
    """Order ``queryset`` as the request asks.

    ``fields`` maps the names clients may sort by to ORM expressions. The primary key breaks
    ties in the same direction, so pages never overlap or skip rows. An unknown field or order
    raises a 422 naming what is allowed.
    """
    sort_key, sort_by = _param(request, "sort_by", "sort")
    order_key, order = _param(request, "sort_order", "order")
    sort_by = sort_by or default
    order = (order or DEFAULT_ORDER).lower()
    errors: dict[str, list[str]] = {}
    if sort_by not in fields:
        errors[sort_key] = [
            _("The %(param)s must be one of: %(allowed)s.")
            % {"param": sort_key, "allowed": ", ".join(fields)}
        ]
    if order not in ORDERS:
        errors[order_key] = [
            _("The %(param)s must be one of: %(allowed)s.")
            % {"param": order_key, "allowed": ", ".join(ORDERS)}
        ]
    if errors:
        raise InvalidData(errors)
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
