"""Before the load: the bench database, its tenants and tokens, seeded POs, clean counters."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse, urlunparse

from bench.config import (
    ARTIFACTS,
    BENCH_DATABASE,
    LIMITED,
    MAIN,
    RAISED_LIMITS,
    RAISED_RATE_LIMIT_ENDPOINT,
    ROOT,
    TENANTS,
    WRITES,
)
from bench.progress import log
from bench.servers import manage, python_module
from tokens.secrets import RANDOM_LENGTH, checksum


@dataclass
class Setup:
    """Everything the scenarios need, built once per invocation."""

    env: dict[str, str]
    database_url: str
    database_note: str
    redis_url: str | None
    tokens: dict[str, str] = field(default_factory=dict)
    schemas: list[str] = field(default_factory=list)
    po: dict[str, Any] | None = None
    po_note: str = ""
    body_file: str = ""


# --- Database and cache -------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path=f"/{name}"))


def prepare_database() -> tuple[str, str]:
    """Drop and recreate waqti_bench on DATABASE_URL's server (or the embedded one)."""
    import psycopg

    base = os.environ.get("DATABASE_URL", "")
    if base:
        server = urlparse(base).hostname or "socket"
        note = f"PostgreSQL from DATABASE_URL ({server}), database {BENCH_DATABASE}"
    else:
        sys.path.insert(0, str(ROOT))
        from waqti.embedded_db import ensure_embedded_database

        base = ensure_embedded_database(ROOT / ".var" / "postgres")
        note = f"embedded PostgreSQL (DATABASE_URL unset), database {BENCH_DATABASE}"
    admin = _with_database(base, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    return _with_database(base, BENCH_DATABASE), note


def clear_bench_keys(redis_url: str | None, schemas: list[str]) -> None:
    """Forget the bench tenants' counters, token versions and per-IP failures (never FLUSHDB)."""
    if not redis_url or not schemas:
        return
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for schema in schemas:
            keys = list(client.scan_iter(match=f"{schema}:*", count=1000))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
    finally:
        client.close()


SUBSCRIBE = """
from django_tenants.utils import schema_context
from tenancy.services import schema_name_for_slug
from waqti.domain_events import EVENT_TYPES
from webhooks.services import subscription_create

for slug in {slugs!r}:
    with schema_context(schema_name_for_slug(slug)):
        subscription_create(
            name="bench ERP", url="https://webhooks.bench.invalid/waqti", events=list(EVENT_TYPES)
        )
"""


def build(args: argparse.Namespace) -> Setup:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (Debian/Ubuntu package)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    database_url, database_note = prepare_database()
    redis_url = os.environ.get("REDIS_URL") or None
    if redis_url is None:
        log(
            "NOTE: REDIS_URL is unset: the server uses the process-local cache (LocMemCache); "
            "rate limits are per worker and the token snapshot cache is off."
        )
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS=".localhost,localhost,127.0.0.1",
        WAQTI_RATE_LIMITS=json.dumps(RAISED_LIMITS),
        WAQTI_RATE_LIMIT_ENDPOINT_PER_MINUTE=str(RAISED_RATE_LIMIT_ENDPOINT),
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    setup = Setup(
        env=env, database_url=database_url, database_note=database_note, redis_url=redis_url
    )
    log(f"database: {database_note}; migrating")
    manage(setup.env, "migrate", "--noinput", "-v", "0")
    for tenant in TENANTS:
        manage(
            setup.env,
            "add_tenant",
            tenant.slug,
            "--name",
            tenant.name,
            "--domain",
            tenant.host,
            "--plan",
            tenant.plan,
        )
    setup.tokens["main"] = manage(
        setup.env, "issue_token", MAIN.slug, "--name", "bench", "--abilities", "read,write"
    )
    setup.tokens["writes"] = manage(
        setup.env, "issue_token", WRITES.slug, "--name", "bench", "--abilities", "read,write"
    )
    setup.tokens["limited"] = manage(
        setup.env, "issue_token", LIMITED.slug, "--name", "bench", "--abilities", "read"
    )
    token_id = setup.tokens["main"].split("|", 1)[0]
    # Well-formed with a correct checksum, wrong secret: the worst bad token, which only the
    # token cache can refuse without SQL (a wrong checksum is refused before it).
    wrong = "Wrong" + "0" * (RANDOM_LENGTH - 5)
    setup.tokens["invalid"] = f"{token_id}|{wrong}{checksum(int(token_id), wrong)}"
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT schema_name FROM tenancy_tenant WHERE slug = ANY(%s)",
            [[t.slug for t in TENANTS]],
        ).fetchall()
    setup.schemas = [row[0] for row in rows]
    clear_bench_keys(redis_url, setup.schemas)
    log(f"seeding {args.orders} purchase orders through procurement.services")
    seeded = python_module(setup.env, "bench.seed", MAIN.slug, "--orders", str(args.orders))
    writes = python_module(setup.env, "bench.seed", WRITES.slug, "--orders", "0")
    if seeded.returncode == 0 and writes.returncode == 0:
        setup.po = json.loads(seeded.stdout.strip().splitlines()[-1])
        write_ids = json.loads(writes.stdout.strip().splitlines()[-1])
        body = {
            "vendor_id": write_ids["vendor_id"],
            "department_id": write_ids["department_id"],
            "notes": "bench",
            "items": [
                {
                    "description": "A4 paper, box",
                    "quantity": 10,
                    "unit_price": "45.50",
                    "unit": "box",
                },
                {"description": "Toner cartridge", "quantity": "2.5", "unit_price": "310.25"},
                {"description": "Delivery", "quantity": 1, "unit_price": 75, "vat_rate": 0},
            ],
        }
        setup.po["body"] = body
        handle, path = tempfile.mkstemp(prefix="po-", suffix=".json", dir=ARTIFACTS)
        with os.fdopen(handle, "w") as f:
            json.dump(body, f)
        setup.body_file = path
    else:
        setup.po_note = (seeded.stderr or writes.stderr).strip().splitlines()[-1:]
        log(f"purchase orders unavailable, PO scenarios skipped: {setup.po_note}")
    # Then every bench tenant gets a webhook subscribed to every event, as an ERP integration
    # would: each write (POST /purchase-orders) queues its delivery and job in its transaction.
    # No worker runs here, so nothing is sent; reads raise no event.
    log("subscribing a webhook to every event in each bench tenant")
    manage(setup.env, "shell", "-c", SUBSCRIBE.format(slugs=[t.slug for t in TENANTS]))
    return setup
