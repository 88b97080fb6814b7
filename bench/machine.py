"""Facts about the machine and the versions measured, for the report."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.preparation import Setup


def machine() -> dict[str, Any]:
    import psutil

    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def versions(setup: Setup) -> dict[str, str]:
    import psycopg

    found = {"Python": platform.python_version()}
    for package, label in (
        ("Django", "Django"),
        ("djangorestframework", "DRF"),
        ("django-tenants", "django-tenants"),
        ("django-ratelimit", "django-ratelimit"),
        ("gunicorn", "gunicorn"),
        ("psycopg", "psycopg"),
        ("redis", "redis-py"),
    ):
        try:
            found[label] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[label] = "not installed"
    with psycopg.connect(setup.database_url) as conn:
        found["PostgreSQL"] = str(conn.execute("SHOW server_version").fetchone()[0])
    if setup.redis_url:
        import redis

        client = redis.Redis.from_url(setup.redis_url)
        found["Redis"] = str(client.info("server")["redis_version"])
        client.close()
    else:
        found["Redis"] = "none (REDIS_URL unset: process-local cache)"
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    found["wrk"] = (wrk.stdout + wrk.stderr).splitlines()[0].split(" Copyright")[0]
    return found
