"""A fault stack's database, in one process: migrate, one tenant, an admin token, a few orders.

``python -m faults.prepare SLUG HOST ORDERS`` (with the stack's environment) prints one JSON line
``{"token": .., "schema": ..}``. One process instead of one ``manage.py`` call per step saves
Django's start-up twice over.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys


def prepare(slug: str, host: str, orders: int) -> dict[str, str]:
    from django.core.management import call_command

    from bench.seed import seed
    from tenancy.resolver import tenant_by_slug
    from tokens.abilities import ALL_ABILITIES

    call_command("migrate", "--noinput", verbosity=0)
    call_command(
        "add_tenant", slug, "--name", "Faults", "--domain", host, "--plan", "enterprise",
        stdout=io.StringIO(),
    )  # fmt: skip
    printed = io.StringIO()
    call_command(
        "issue_token", slug, "--name", "faults", "--abilities", ",".join(ALL_ABILITIES),
        stdout=printed,
    )  # fmt: skip
    seed(slug, orders)
    tenant = tenant_by_slug(slug)
    assert tenant is not None
    return {"token": printed.getvalue().strip(), "schema": tenant.schema_name}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("slug")
    parser.add_argument("host")
    parser.add_argument("orders", type=int)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "waqti.settings")
    import django

    django.setup()
    sys.stdout.write(json.dumps(prepare(args.slug, args.host, args.orders)) + "\n")


if __name__ == "__main__":
    main()
