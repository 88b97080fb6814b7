"""Seed a bench tenant through the procurement services: vendors, departments, purchase orders.

``python -m bench.seed SLUG --orders 1000`` (with DJANGO_SETTINGS_MODULE=waqti.settings) prints
one JSON line ``{"vendor_id": .., "department_id": .., "orders": ..}`` for the load scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from decimal import Decimal
from typing import Any


def seed(slug: str, orders: int) -> dict[str, int]:
    """Create 5 departments, 20 vendors and ``orders`` three-line purchase orders in ``slug``."""
    from django.db import connection
    from django_tenants.utils import tenant_context

    from procurement.services import (
        LineInput,
        department_create,
        purchase_order_create,
        vendor_create,
    )
    from tenancy.resolver import tenant_by_slug

    tenant = tenant_by_slug(slug)
    if tenant is None:
        raise SystemExit(f"unknown tenant {slug!r}")
    with tenant_context(tenant):
        departments = [
            department_create(name=f"Department {n}", code=f"D{n:02d}") for n in range(1, 6)
        ]
        vendors = [
            vendor_create(
                name=f"Vendor {n}",
                email=f"sales{n}@vendor{n}.example",
                category="supplies",
                vat_number=f"3{n:013d}3",
                payment_terms=30,
            )
            for n in range(1, 21)
        ]
        for n in range(orders):
            purchase_order_create(
                vendor_id=vendors[n % len(vendors)].pk,
                department_id=departments[n % len(departments)].pk,
                notes=f"Bench order {n}",
                items=[
                    LineInput(
                        description="A4 paper, box",
                        quantity=Decimal("10"),
                        unit_price=Decimal("45.5000"),
                        unit="box",
                    ),
                    LineInput(
                        description="Toner cartridge",
                        quantity=Decimal("2.500"),
                        unit_price=Decimal("310.2500"),
                        unit="pc",
                    ),
                    LineInput(
                        description="Delivery",
                        quantity=Decimal("1"),
                        unit_price=Decimal("75"),
                        vat_rate=Decimal("0"),
                    ),
                ],
            )
        analyze(connection)
    return {"vendor_id": vendors[0].pk, "department_id": departments[0].pk, "orders": orders}


def analyze(connection: Any) -> None:
    """Gather planner statistics for the procurement tables of the connection's tenant schema.

    Without them the freshly seeded tables look empty to PostgreSQL until autovacuum gets to
    them, and the list's items query scans the table instead of using its index.
    """
    from django.apps import apps

    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in apps.get_app_config("procurement").get_models():
            table = f"{quote(connection.schema_name)}.{quote(model._meta.db_table)}"
            cursor.execute(f"ANALYZE {table}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("slug")
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "waqti.settings")
    import django

    django.setup()
    sys.stdout.write(json.dumps(seed(args.slug, args.orders)) + "\n")


if __name__ == "__main__":
    main()
