"""Create tenants FROM..TO by cloning, one JSON line each (for bench.tenants).

``python -m bench.tenants_create 0 200`` with DJANGO_SETTINGS_MODULE=bench.tenants_settings and
DATABASE_URL set: each tenant goes through tenant_create, as `manage.py add_tenant` does. Each
line has the wall milliseconds and the CPU milliseconds spent on it by this process and by its
PostgreSQL backend (read from /proc when the server runs on this machine, else null): on a
machine shared with other work, the CPU figure is the one that does not depend on the load.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import django

TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu_ms(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / TICKS  # utime, stime


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.tenants_settings")
    django.setup()
    from django.db import connection

    from tenancy.services import tenant_create

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    first, last = int(sys.argv[1]), int(sys.argv[2])
    for number in range(first, last):
        slug = f"bench{number:05d}"
        server_before, cpu_before = backend_cpu_ms(backend), time.process_time()
        started = time.perf_counter()
        tenant_create(slug=slug, name=slug, domains=[f"{slug}.localhost"], plan="professional")
        ms = (time.perf_counter() - started) * 1000
        server_after = backend_cpu_ms(backend)
        cpu = (time.process_time() - cpu_before) * 1000
        if server_before is not None and server_after is not None:
            cpu += server_after - server_before
        else:
            cpu = None
        print(json.dumps({"n": number + 1, "ms": ms, "cpu_ms": cpu}), flush=True)


if __name__ == "__main__":
    main()
