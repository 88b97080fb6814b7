"""The purchase-order list served from rows: what ``PurchaseOrderSerializer`` renders, cheaper.

``GET /api/v1/purchase-orders`` is the hottest read ERPs make. Through the generic path a page
of 15 orders cost several times its SQL in Python: compiling a 20-column join, building model
instances, rendering each value through a DRF field. Here the ORM still decides *which* orders
(filters, sorting and slicing stay declarative) and fixed SQL, written once from the models'
metadata, fetches *what* the output needs, in three statements whatever the page:

1. the filtered count and the page's ids, in order (both compiled by the ORM, one round trip);
2. those orders' columns, vendor and department names joined;
3. their lines.

PostgreSQL hands decimals and timestamps over as text already in the API's format
(``numeric::text`` prints the column's scale; ``to_char`` writes ``TIMESTAMP_FORMAT``), so no
``Decimal`` or ``datetime`` is built. A numeric column whose text could differ from what its
output field prints (another scale or precision) is rendered by that field instead, so the dicts
are always byte for byte what the serializers produce (``tests/procurement/test_list_rows.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections, models
from django.db.models import QuerySet
from rest_framework import serializers

from procurement.models import ITEM_FIELDS, Department, PurchaseOrder, PurchaseOrderItem, Vendor
from procurement.serializers import PurchaseOrderItemSerializer, PurchaseOrderSerializer

# ``to_char`` pattern of ``waqti.api.serializers.TIMESTAMP_FORMAT`` (``%Y-%m-%dT%H:%M:%SZ``) in
# UTC; ``FM`` leaves years before 1000 unpadded, as ``strftime("%Y")`` does.
TIMESTAMP_SQL = '\'FMYYYY-MM-DD"T"HH24:MI:SS"Z"\''

# Columns of statement 2, in this order: ``(model, field name)``.
ORDER_COLUMNS = (
    (PurchaseOrder, "id"),
    (PurchaseOrder, "po_number"),
    (PurchaseOrder, "status"),
    (PurchaseOrder, "vendor_id"),
    (Vendor, "name"),
    (PurchaseOrder, "department_id"),
    (Department, "name"),
    (PurchaseOrder, "currency"),
    (PurchaseOrder, "notes"),
    (PurchaseOrder, "delivery_address"),
    (PurchaseOrder, "expected_delivery_date"),
    (PurchaseOrder, "subtotal"),
    (PurchaseOrder, "vat_amount"),
    (PurchaseOrder, "total_amount"),
    (PurchaseOrder, "created_at"),
    (PurchaseOrder, "updated_at"),
    (PurchaseOrder, "submitted_at"),
    (PurchaseOrder, "approved_at"),
    (PurchaseOrder, "rejected_at"),
    (PurchaseOrder, "rejection_reason"),
)
# Columns of statement 3: the order a line belongs to, then the line's output fields.
LINE_COLUMNS = tuple((PurchaseOrderItem, name) for name in ("purchase_order_id", *ITEM_FIELDS))

Row = tuple[Any, ...]


class ListedOrders:
    """A filtered, ordered purchase-order queryset as ``PageNumberEnvelopePagination`` reads it:
    the total and one page of output dicts from a single call (``count_and_slice``)."""

    def __init__(self, orders: QuerySet[PurchaseOrder]) -> None:
        self.orders = orders

    def count_and_slice(self, start: int, stop: int) -> tuple[int, list[dict[str, Any]]]:
        total, ids = _count_and_ids(self.orders, start, stop)
        if not ids:
            return total, []
        with connections[self.orders.db].cursor() as cursor:
            cursor.execute(_orders_sql(), [ids])
            by_id = {row[0]: row for row in cursor.fetchall()}
            cursor.execute(_lines_sql(), [ids])
            lines = cursor.fetchall()
        # An order deleted between the statements is left out, as a prefetch would.
        return total, rows_data([by_id[pk] for pk in ids if pk in by_id], lines)


def _count_and_ids(orders: QuerySet[PurchaseOrder], start: int, stop: int) -> tuple[int, list]:
    """How many orders match, and the ids of rows ``start:stop`` in order, in one statement."""
    try:
        every, every_params = _compiled(orders.order_by().values_list("pk"))
        page, page_params = _compiled(orders.values_list("pk")[start:stop])
    except EmptyResultSet:  # a filter that can match nothing (``__in=[]``)
        return 0, []
    # Both subqueries are the ORM's SQL with their values as parameters.
    sql = f"SELECT (SELECT COUNT(*) FROM ({every}) AS matching), ARRAY({page})"  # noqa: S608
    with connections[orders.db].cursor() as cursor:
        cursor.execute(sql, (*every_params, *page_params))
        total, ids = cursor.fetchone()
    return total, ids


def _compiled(queryset: QuerySet) -> tuple[str, tuple[Any, ...]]:
    return queryset.query.get_compiler(using=queryset.db).as_sql()


def _select(model: type[models.Model], name: str, table: str) -> str:
    """One output column, as text where PostgreSQL can already write it as the API does."""
    field = model._meta.get_field(name)
    column = f"{table}.{connection.ops.quote_name(field.column)}"
    if isinstance(field, models.DecimalField):
        return f"{column}::text"
    if isinstance(field, models.DateTimeField):
        return f"to_char({column} AT TIME ZONE 'UTC', {TIMESTAMP_SQL})"
    return column


@functools.cache
def _orders_sql() -> str:
    """``ORDER_COLUMNS`` of the orders whose ids are ``%s``, in no particular order."""
    quote = connection.ops.quote_name
    tables = {PurchaseOrder: "o", Vendor: "v", Department: "d"}
    columns = ", ".join(_select(model, name, tables[model]) for model, name in ORDER_COLUMNS)
    order = PurchaseOrder._meta

    def join(model: type[models.Model], foreign_key: str) -> str:
        meta, alias = model._meta, tables[model]
        return (
            f"JOIN {quote(meta.db_table)} {alias} ON {alias}.{quote(meta.pk.column)} "
            f"= o.{quote(order.get_field(foreign_key).column)}"
        )

    return (
        f"SELECT {columns} FROM {quote(order.db_table)} o "  # noqa: S608 - our own models' names
        f"{join(Vendor, 'vendor')} {join(Department, 'department')} "
        f"WHERE o.{quote(order.pk.column)} = ANY(%s)"
    )


@functools.cache
def _lines_sql() -> str:
    """``LINE_COLUMNS`` of the lines of the orders ``%s``, by order and line number."""
    meta = PurchaseOrderItem._meta
    quote = connection.ops.quote_name
    columns = ", ".join(_select(model, name, "i") for model, name in LINE_COLUMNS)
    order = quote(meta.get_field("purchase_order").column)
    number = quote(meta.get_field("line_number").column)
    return (
        f"SELECT {columns} FROM {quote(meta.db_table)} i "  # noqa: S608 - our own model's names
        f"WHERE i.{order} = ANY(%s) ORDER BY i.{order}, i.{number}"
    )


def _text_is_rendered(
    column: models.DecimalField, field: serializers.Field, places: int | None
) -> bool:
    """True when PostgreSQL's text of ``column`` is always what the output ``field`` renders.

    ``numeric(p, s)`` prints exactly ``s`` decimals and at most ``p`` digits (``NaN`` as NaN,
    as the field does), so when the field plainly renders ``s`` places with at least ``p``
    digits of precision, ``DecimalField.quantize`` would change nothing.
    """
    return (
        places == column.decimal_places
        and column.max_digits > column.decimal_places
        and (field.max_digits is None or field.max_digits >= column.max_digits)
    )


def _through_field(field: serializers.Field) -> Callable[[str | None], str | None]:
    """Renders a numeric column's text with the output field itself."""

    def render(text: str | None) -> str | None:
        return None if text is None else field.to_representation(Decimal(text))

    return render


@functools.cache
def _renderers(
    serializer: type[serializers.Serializer], columns: tuple[tuple[type[models.Model], str], ...]
) -> tuple[tuple[int, Callable[[str | None], str | None]], ...]:
    """``(index, render)`` of the numeric ``columns`` whose text the serializer's field must
    still render; empty when PostgreSQL already writes every one as the API does."""
    plan = {name: (field, places) for name, _, field, places in serializer._plan()}
    renderers = []
    for index, (model, name) in enumerate(columns):
        column = model._meta.get_field(name)
        if isinstance(column, models.DecimalField):
            field, places = plan[name]
            if not _text_is_rendered(column, field, places):
                renderers.append((index, _through_field(field)))
    return tuple(renderers)


def _rendered(
    rows: list[Row], renderers: tuple[tuple[int, Callable[[str | None], str | None]], ...]
) -> list[Row]:
    if not renderers:
        return rows
    done = []
    for row in rows:
        values = list(row)
        for index, render in renderers:
            values[index] = render(values[index])
        done.append(tuple(values))
    return done


def rows_data(orders: list[Row], lines: list[Row]) -> list[dict[str, Any]]:
    """What ``PurchaseOrderSerializer(many=True).data`` renders, from statement 2 and 3 rows.

    Same keys in the same order, decimals as the serializers' own fields write them, optional
    text that is empty as null.
    """
    orders = _rendered(orders, _renderers(PurchaseOrderSerializer, ORDER_COLUMNS))
    lines = _rendered(lines, _renderers(PurchaseOrderItemSerializer, LINE_COLUMNS))
    items: dict[int, list[dict[str, Any]]] = {}
    for order_id, pk, number, description, qty, unit, price, rate, subtotal, vat, total in lines:
        items.setdefault(order_id, []).append(
            {
                "id": pk,
                "line_number": number,
                "description": description,
                "quantity": qty,
                "unit": unit or None,
                "unit_price": price,
                "vat_rate": rate,
                "subtotal": subtotal,
                "vat_amount": vat,
                "total": total,
            }
        )
    data = []
    for (
        pk,
        po_number,
        status,
        vendor_id,
        vendor_name,
        department_id,
        department_name,
        currency,
        notes,
        delivery_address,
        expected,
        subtotal,
        vat_amount,
        total_amount,
        created_at,
        updated_at,
        submitted_at,
        approved_at,
        rejected_at,
        rejection_reason,
    ) in orders:
        data.append(
            {
                "id": pk,
                "po_number": po_number,
                "status": status,
                "vendor": {"id": vendor_id, "name": vendor_name},
                "department": {"id": department_id, "name": department_name},
                "currency": currency,
                "notes": notes or None,
                "delivery_address": delivery_address or None,
                "expected_delivery_date": expected.isoformat() if expected else None,
                "items": items.get(pk, []),
                "subtotal": subtotal,
                "vat_amount": vat_amount,
                "total_amount": total_amount,
                "created_at": created_at,
                "updated_at": updated_at,
                "submitted_at": submitted_at,
                "approved_at": approved_at,
                "rejected_at": rejected_at,
                "rejection_reason": rejection_reason or None,
            }
        )
    return data
