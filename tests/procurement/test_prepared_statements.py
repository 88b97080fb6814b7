"""Prepared statements (``prepare_threshold`` in settings) never read another tenant's rows."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from tests.helpers import issue_token


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_prepared_statements_follow_each_requests_tenant(api, make, acme, globex):
    assert settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"] == 5
    for _ in range(2):
        make.order(acme, notes="acme order")
    make.order(globex, notes="globex order")
    acme_reader = api(acme, issue_token(acme, ["read"]))
    globex_reader = api(globex, issue_token(globex, ["read"]))
    # The same statements on the one test connection, alternating schemas, past the threshold.
    for _ in range(8):
        for reader, total, notes in (
            (acme_reader, 2, "acme order"),
            (globex_reader, 1, "globex order"),
        ):
            body = reader.get("/api/v1/purchase-orders").json()
            assert body["meta"]["total"] == total
            assert {order["notes"] for order in body["data"]} == {notes}
            assert all(order["items"] for order in body["data"])
    prepared = _prepared_statements()
    assert any("ARRAY(" in statement for statement in prepared), prepared  # count and page ids
    assert any("procurement_purchaseorderitem" in statement for statement in prepared), prepared
