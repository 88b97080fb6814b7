"""The purchase-order list served from rows: what ``PurchaseOrderSerializer`` renders, cheaper.

``GET /api/v1/purchase-orders`` is the hottest read ERPs make. Through the generic path a page
of 15 orders cost several times its SQL in Python: compiling a 20-column join, building model
instances, rendering each value through a DRF field. Here the ORM still decides *which* orders
(filters, sorting and slicing stay declarative) and fixed SQL, written once from the models'
metadata, fetches *what* the output needs, in three statements whatever the page:

1. the filtered count and the page's ids, in order (both compiled by the ORM, one round trip);
2. those orders' columns, vendor and department names joined;
3. their lines.

What an order and a line look like is declared once, as a list of outputs (``ORDER_OUTPUT``,
``LINE_OUTPUT``: output name, model field, how it is written); statements 2 and 3 select their
columns from those lists and each row becomes its dict through the same list, by name.

PostgreSQL hands decimals and timestamps over as text already in the API's format
(``numeric::text`` prints the column's scale; ``to_char`` writes ``TIMESTAMP_FORMAT``), so no
``Decimal`` or ``datetime`` is built. A numeric column whose text could differ from what its
output field prints (another scale or precision) is rendered by that field instead, so the dicts
are always byte for byte what the serializers produce (``tests/procurement/test_list_rows.py``).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.settings import api_settings

from procurement.models import Department, PurchaseOrder, PurchaseOrderItem, Vendor
from procurement.serializers import PurchaseOrderItemSerializer, PurchaseOrderSerializer

# ``to_char`` pattern of ``waqti.api.serializers.TIMESTAMP_FORMAT`` (``%Y-%m-%dT%H:%M:%SZ``) in
# UTC; ``FM`` leaves years before 1000 unpadded, as ``strftime("%Y")`` does.
TIMESTAMP_SQL = '\'FMYYYY-MM-DD"T"HH24:MI:SS"Z"\''


def _blank_as_null(text: str) -> str | None:
    """Optional text the serializers write as null when it is empty (``blank_as_null``)."""
    return text or None


def _iso_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True, slots=True)
class Output:
    """One key of a listed order (or line): its output name, the model field it is read from,
    and how its value is written when PostgreSQL's value is not already the API's.

    A dotted name nests (``vendor.id`` is ``{"vendor": {"id": ...}}``); a name without a model
    is filled in afterwards (an order's ``items``).
    """

    name: str
    model: type[models.Model] | None = None
    field: str = ""
    render: Callable[[Any], Any] | None = None


# What ``PurchaseOrderSerializer`` writes for one order, in its order: the one list from which
# statement 2's columns and each order's dict are both built.
ORDER_OUTPUT = (
    Output("id", PurchaseOrder, "id"),
    Output("po_number", PurchaseOrder, "po_number"),
    Output("status", PurchaseOrder, "status"),
    Output("vendor.id", PurchaseOrder, "vendor_id"),
    Output("vendor.name", Vendor, "name"),
    Output("department.id", PurchaseOrder, "department_id"),
    Output("department.name", Department, "name"),
    Output("currency", PurchaseOrder, "currency"),
    Output("notes", PurchaseOrder, "notes", _blank_as_null),
    Output("delivery_address", PurchaseOrder, "delivery_address", _blank_as_null),
    Output("expected_delivery_date", PurchaseOrder, "expected_delivery_date", _iso_date),
    Output("items"),
    Output("subtotal", PurchaseOrder, "subtotal"),
    Output("vat_amount", PurchaseOrder, "vat_amount"),
    Output("total_amount", PurchaseOrder, "total_amount"),
    Output("created_at", PurchaseOrder, "created_at"),
    Output("updated_at", PurchaseOrder, "updated_at"),
    Output("submitted_at", PurchaseOrder, "submitted_at"),
    Output("approved_at", PurchaseOrder, "approved_at"),
    Output("rejected_at", PurchaseOrder, "rejected_at"),
    Output("rejection_reason", PurchaseOrder, "rejection_reason", _blank_as_null),
)
# What ``PurchaseOrderItemSerializer`` writes for one line, in its order.
LINE_OUTPUT = (
    Output("id", PurchaseOrderItem, "id"),
    Output("line_number", PurchaseOrderItem, "line_number"),
    Output("description", PurchaseOrderItem, "description"),
    Output("quantity", PurchaseOrderItem, "quantity"),
    Output("unit", PurchaseOrderItem, "unit", _blank_as_null),
    Output("unit_price", PurchaseOrderItem, "unit_price"),
    Output("vat_rate", PurchaseOrderItem, "vat_rate"),
    Output("subtotal", PurchaseOrderItem, "subtotal"),
    Output("vat_amount", PurchaseOrderItem, "vat_amount"),
    Output("total", PurchaseOrderItem, "total"),
)


def _read(outputs: tuple[Output, ...]) -> tuple[tuple[type[models.Model], str], ...]:
    """``(model, field name)`` of each output read from a column, in order."""
    return tuple((out.model, out.field) for out in outputs if out.model is not None)


# Columns of statement 2, in this order.
ORDER_COLUMNS = _read(ORDER_OUTPUT)
# Columns of statement 3: the order a line belongs to, then the line's outputs.
LINE_COLUMNS = ((PurchaseOrderItem, "purchase_order_id"), *_read(LINE_OUTPUT))

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
        return total, orders_data(ids, self.orders.db)


def orders_data(ids: list[int], database: str = DEFAULT_DB_ALIAS) -> list[dict[str, Any]]:
    """The orders ``ids`` (in that order) as ``PurchaseOrderSerializer`` renders them, lines
    included, in two statements (also what a webhook event carries, ``webhooks.publisher``)."""
    with connections[database].cursor() as cursor:
        cursor.execute(_orders_sql(), [ids])
        by_id = {row[0]: row for row in cursor.fetchall()}
        cursor.execute(_lines_sql(), [ids])
        lines = cursor.fetchall()
    # An order deleted between the statements is left out, as a prefetch would.
    return rows_data([by_id[pk] for pk in ids if pk in by_id], lines)


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


def _plain_decimal_places(field: serializers.Field) -> int | None:
    """Decimal places of a DecimalField that writes ``f"{quantized:f}"``; else None."""
    if not isinstance(field, serializers.DecimalField) or field.decimal_places is None:
        return None
    coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    if field.normalize_output or field.localize or not coerce:
        return None
    return field.decimal_places


@functools.cache
def _renderers(
    serializer: type[serializers.Serializer], columns: tuple[tuple[type[models.Model], str], ...]
) -> tuple[tuple[int, Callable[[str | None], str | None]], ...]:
    """``(index, render)`` of the numeric ``columns`` whose text the serializer's field must
    still render; empty when PostgreSQL already writes every one as the API does."""
    fields = serializer().fields  # output names: a numeric column's is its field's name
    renderers = []
    for index, (model, name) in enumerate(columns):
        column = model._meta.get_field(name)
        if isinstance(column, models.DecimalField):
            field = fields[name]
            if not _text_is_rendered(column, field, _plain_decimal_places(field)):
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


def _row_to_dict(outputs: tuple[Output, ...], skip: int = 0) -> Callable[[Row], dict[str, Any]]:
    """The function that writes one row (``skip`` leading columns, then one per read output)
    as the dict of ``outputs``: same keys, same order, dotted names nested. Outputs without a
    column get None, keeping their key's place for the caller to fill."""
    plan: list[tuple[str, Callable[[Row], Any]]] = []
    nested: dict[str, list[tuple[str, Callable[[Row], Any]]]] = {}
    columns = iter(range(skip, skip + len(outputs)))
    for out in outputs:
        if out.model is None:
            plan.append((out.name, _none))
            continue
        read = _reader(next(columns), out.render)
        outer, _dot, inner = out.name.partition(".")
        if not inner:
            plan.append((out.name, read))
        elif outer in nested:
            nested[outer].append((inner, read))
        else:
            nested[outer] = [(inner, read)]
            plan.append((outer, _nest(nested[outer])))
    return lambda row: {name: read(row) for name, read in plan}


def _reader(index: int, render: Callable[[Any], Any] | None) -> Callable[[Row], Any]:
    if render is None:
        return operator.itemgetter(index)
    return lambda row: render(row[index])


def _nest(parts: list[tuple[str, Callable[[Row], Any]]]) -> Callable[[Row], dict[str, Any]]:
    return lambda row: {name: read(row) for name, read in parts}


def _none(row: Row) -> None:
    return None


_order_dict = _row_to_dict(ORDER_OUTPUT)
_line_dict = _row_to_dict(LINE_OUTPUT, skip=1)  # after the line's order id


def rows_data(orders: list[Row], lines: list[Row]) -> list[dict[str, Any]]:
    """What ``PurchaseOrderSerializer(many=True).data`` renders, from statement 2 and 3 rows:
    the dicts of ``ORDER_OUTPUT``, each with its lines (``LINE_OUTPUT``) as ``items``."""
    orders = _rendered(orders, _renderers(PurchaseOrderSerializer, ORDER_COLUMNS))
    lines = _rendered(lines, _renderers(PurchaseOrderItemSerializer, LINE_COLUMNS))
    items: dict[int, list[dict[str, Any]]] = {}
    for line in lines:
        items.setdefault(line[0], []).append(_line_dict(line))
    data = []
    for row in orders:
        order = _order_dict(row)
        order["items"] = items.get(order["id"], [])
        data.append(order)
    return data
