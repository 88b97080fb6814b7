"""The purchase-order list served from rows answers byte for byte what the serializers answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection, models, transaction
from rest_framework import serializers

from procurement.list_rows import (
    LINE_COLUMNS,
    ORDER_COLUMNS,
    TIMESTAMP_SQL,
    ListedOrders,
    _rendered,
    _renderers,
    _text_is_rendered,
    _through_field,
)
from procurement.models import PurchaseOrder
from procurement.serializers import PurchaseOrderItemSerializer, PurchaseOrderSerializer
from procurement.views import CrudViewSet, PurchaseOrderViewSet
from waqti.api.serializers import utc_timestamp

QUERIES = [
    {},
    {"per_page": 2},
    {"per_page": 2, "page": 2},
    {"per_page": 2, "page": 3},
    {"per_page": 100},
    {"sort_by": "total_amount", "sort_order": "asc", "per_page": 3, "page": 2},
    {"sort_by": "po_number", "sort_order": "desc"},
    {"sort": "expected_delivery_date", "order": "asc"},
    {"sort_by": "status"},
    {"sort_by": "updated_at", "sort_order": "asc", "per_page": 1, "page": 4},
    {"status": "rejected"},
    {"status": "approved", "per_page": 1},
    {"min_amount": "100.00", "max_amount": "99999999999", "sort_by": "id"},
    {"search": "break"},
    {"search": "nothing matches this"},
    {"created_from": "2000-01-01", "created_to": "2999-12-31", "per_page": 2, "page": 2},
]


def test_list_rows_match_the_serializer_output(clients, awkward_orders, monkeypatch):
    reader = clients["read"]
    fast = [reader.get("/api/v1/purchase-orders", **query) for query in QUERIES]
    monkeypatch.setattr(PurchaseOrderViewSet, "list", CrudViewSet.list)
    generic = [reader.get("/api/v1/purchase-orders", **query) for query in QUERIES]
    for query, ours, theirs in zip(QUERIES, fast, generic, strict=True):
        assert ours.status_code == theirs.status_code == 200, query
        assert ours.content == theirs.content, query
    everything = fast[4].json()
    assert everything["meta"]["total"] == 5
    assert [len(order["items"]) for order in everything["data"]] == [1, 1, 7, 3, 1]
    assert b'"unit":null' in fast[4].content and b'"unit":"g"' in fast[4].content
    assert b'"notes":null' in fast[4].content
    assert b'"rejection_reason":"No budget"' in fast[4].content
    assert fast[14].json()["data"] == [] and fast[14].json()["meta"]["total"] == 0


def test_list_rows_refuse_pages_past_the_end_as_the_generic_path(
    clients, awkward_orders, monkeypatch
):
    reader = clients["read"]
    queries = [{"per_page": 2, "page": 4}, {"page": 2**63 - 1}, {"page": 10**30, "status": "x"}]
    fast = [reader.get("/api/v1/purchase-orders", **query) for query in queries]
    monkeypatch.setattr(PurchaseOrderViewSet, "list", CrudViewSet.list)
    generic = [reader.get("/api/v1/purchase-orders", **query) for query in queries]
    for query, ours, theirs in zip(queries, fast, generic, strict=True):
        assert ours.status_code == theirs.status_code == 422, query
        assert ours.content == theirs.content, query
    assert list(fast[0].json()["errors"]) == ["page"]


def test_list_rows_refuse_bad_filters_and_sorting_as_before(clients, awkward_orders):
    reader = clients["read"]
    refused = reader.get("/api/v1/purchase-orders", status="nope", sort_by="vendor")
    assert refused.status_code == 422
    assert list(refused.json()["errors"]) == ["status"]
    refused = reader.get("/api/v1/purchase-orders", sort_by="vendor")
    assert refused.status_code == 422 and list(refused.json()["errors"]) == ["sort_by"]
    refused = reader.get("/api/v1/purchase-orders", per_page="0")
    assert refused.status_code == 422 and list(refused.json()["errors"]) == ["per_page"]


def test_list_rows_count_and_slice_of_a_filter_that_matches_nothing(make, acme, in_tenant):
    make.order(acme)
    listed = ListedOrders(PurchaseOrder.objects.filter(pk__in=[]))
    assert in_tenant(acme, lambda: listed.count_and_slice(0, 15)) == (0, [])
    everything = ListedOrders(PurchaseOrder.objects.order_by("-created_at", "-pk"))
    total, page = in_tenant(acme, lambda: everything.count_and_slice(1, 15))
    assert (total, page) == (1, [])


def test_list_rows_numbers_of_our_columns_are_postgresqls_text():
    assert _renderers(PurchaseOrderSerializer, ORDER_COLUMNS) == ()
    assert _renderers(PurchaseOrderItemSerializer, LINE_COLUMNS) == ()


@pytest.mark.parametrize(
    ("column", "places", "max_digits", "rendered"),
    [
        (models.DecimalField(max_digits=20, decimal_places=2), 2, 20, True),
        (models.DecimalField(max_digits=20, decimal_places=2), 2, 30, True),
        (models.DecimalField(max_digits=19, decimal_places=4), 2, 19, False),  # rounds
        (models.DecimalField(max_digits=20, decimal_places=2), 3, 20, False),  # pads
        (models.DecimalField(max_digits=20, decimal_places=2), 2, 10, False),  # may overflow
        (models.DecimalField(max_digits=2, decimal_places=2), 2, 2, False),  # "0.50": 3 digits
        (models.DecimalField(max_digits=20, decimal_places=2), None, 20, False),  # normalized
    ],
)
def test_list_rows_text_is_used_only_when_the_field_would_print_it_unchanged(
    column, places, max_digits, rendered
):
    field = serializers.DecimalField(max_digits=max_digits, decimal_places=places or 2)
    assert _text_is_rendered(column, field, places) is rendered


@pytest.mark.parametrize(
    ("text", "places", "expected"),
    [("12.5", 2, "12.50"), ("12.505", 2, "12.50"), ("7", 3, "7.000"), ("NaN", 2, "NaN")],
)
def test_list_rows_other_columns_are_rendered_by_their_output_field(text, places, expected):
    field = serializers.DecimalField(max_digits=20, decimal_places=places)
    render = _through_field(field)
    assert render(text) == expected == field.to_representation(text)
    assert render(None) is None
    rows = [(1, text, "x"), (2, None, "y")]
    assert _rendered(rows, ((1, render),)) == [(1, expected, "x"), (2, None, "y")]


@pytest.mark.django_db
@pytest.mark.parametrize("session_zone", ["UTC", "Asia/Riyadh", "America/St_Johns"])
def test_list_rows_timestamps_written_by_postgresql_as_the_api_writes_them(session_zone):
    moments = [
        datetime(2026, 3, 5, 7, 8, 9, 999_999, tzinfo=timezone(timedelta(hours=3))),
        datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", ["TimeZone", session_zone])
        for moment in moments:
            cursor.execute(
                f"SELECT to_char(%s::timestamptz AT TIME ZONE 'UTC', {TIMESTAMP_SQL})", [moment]
            )
            assert cursor.fetchone()[0] == utc_timestamp(moment), moment
