"""Create tenants FROM..TO by cloning, one JSON line of milliseconds each (for bench.tenants).

``python -m bench.tenants_create 0 200`` with DJANGO_SETTINGS_MODULE=bench.tenants_settings and
DATABASE_URL set: each tenant goes through tenant_create, as `manage.py add_tenant` does.
"""

from __future__ import annotations

import json
import os
import sys
import time

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.tenants_settings")
    django.setup()
    from tenancy.services import tenant_create

    first, last = int(sys.argv[1]), int(sys.argv[2])
    for number in range(first, last):
        slug = f"bench{number:05d}"
        started = time.perf_counter()
        tenant_create(slug=slug, name=slug, domains=[f"{slug}.localhost"], plan="professional")
        ms = (time.perf_counter() - started) * 1000
        print(json.dumps({"n": number + 1, "ms": ms}), flush=True)


if __name__ == "__main__":
    main()
