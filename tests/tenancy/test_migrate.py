"""`manage.py migrate`: one query when nothing is pending; a failing tenant stops the run.

The no-op and detection tests run in the test database (the session's tenants). The deploy tests
run `manage.py migrate` as an operator would, in subprocesses, on a scratch database of their own
on the same server, with bench/tenants_settings.py adding procurement migrations 0003 and 0004
(two nullable columns, bench/tenant_migrations/).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenancy.migration_plan import expected_migrations, pending_migrations
from tenancy.services import tenant_create
from tests.live_server import run_manage, throwaway_database

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = settings.WAQTI_TENANT_TEMPLATE_SCHEMA
TOKENS_0003 = "tokens.0003_tenant_admins_not_superusers"


def test_migrate_with_nothing_to_do_costs_one_query(db):
    out = StringIO()
    with CaptureQueriesContext(connection) as queries:
        call_command("migrate", stdout=out)
    # django-tenants' SET search_path (once per connection and schema) is not a query of work.
    work = [q["sql"] for q in queries if not q["sql"].startswith("SET search_path")]
    assert len(work) == 1, work
    assert 'FROM "public"."tenancy_tenant"' in work[0]
    assert out.getvalue().startswith("No migrations to apply")


def test_the_one_query_names_each_schema_behind_and_what_it_lacks(db, globex):
    expected = expected_migrations()
    tenant_create(slug="no-history", name="N", domains=["nohistory.localhost"], plan="ultimate")
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM t_globex.django_migrations WHERE app = 'tokens' "
            "AND name = '0003_tenant_admins_not_superusers'"
        )
        cursor.execute(f"DELETE FROM \"{TEMPLATE}\".django_migrations WHERE app = 'sessions'")  # noqa: S608
        cursor.execute("DROP TABLE t_no_history.django_migrations")
    with CaptureQueriesContext(connection) as queries:
        plan = pending_migrations(TEMPLATE, expected)
    assert len([q for q in queries if not q["sql"].startswith("SET search_path")]) == 1
    assert plan == {
        TEMPLATE: ["sessions.0001_initial"],
        "t_globex": [TOKENS_0003],
        "t_no_history": expected,
    }


# --- deploys, as an operator runs them -------------------------------------------------------


def admin_sql(url: str, *statements: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows: list[tuple] = []
        for statement in statements:
            cursor = conn.execute(statement)
            rows = cursor.fetchall() if cursor.description else []
        return rows


def manage(url: str, *args: str, extra: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.tenants_settings",
        "WAQTI_EXTRA_TENANT_MIGRATIONS": extra,
    }
    return run_manage(env, *args)


@pytest.fixture(scope="module")
def deployment(django_db_blocker) -> Iterator[str]:
    """A scratch database, migrated, with tenants t_a ... t_d copied from the template."""
    name = f"{connection.settings_dict['NAME']}_mig"
    with django_db_blocker.unblock(), throwaway_database(name) as url:
        assert manage(url, "migrate", "--noinput").returncode == 0
        create = (
            "from tenancy.services import tenant_create\n"
            "for s in 'abcd': tenant_create(slug=s, name=s, domains=[s + '.localhost'], "
            "plan='professional')"
        )
        result = manage(url, "shell", "-c", create)
        assert result.returncode == 0, result.stderr
        yield url


def state(url: str, schema: str) -> tuple[set[str], set[str]]:
    """(bench columns of the schema's vendors, bench migrations recorded in it)."""
    columns = admin_sql(
        url,
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "  # noqa: S608
        f"'{schema}' AND table_name = 'procurement_vendor' AND column_name LIKE 'bench_%'",
    )
    recorded = admin_sql(
        url,
        f"SELECT name FROM \"{schema}\".django_migrations WHERE app = 'procurement' "  # noqa: S608
        "AND name LIKE '000%_vendor_bench_%'",
    )
    return {c for (c,) in columns}, {n for (n,) in recorded}


FULL = ({"bench_flag", "bench_note"}, {"0003_vendor_bench_flag", "0004_vendor_bench_note"})
NONE: tuple[set[str], set[str]] = (set(), set())


@pytest.mark.slow
def test_a_migration_failing_on_the_template_touches_no_tenant(deployment):
    url = deployment
    # The template already has 0003's column (with another type): 0003 fails there first.
    admin_sql(url, f'ALTER TABLE "{TEMPLATE}".procurement_vendor ADD COLUMN bench_flag int')
    try:
        result = manage(url, "migrate", "--noinput", extra="one")
        assert result.returncode == 1
        assert f"the template schema {TEMPLATE} failed, no tenant was touched" in result.stderr
        assert state(url, TEMPLATE) == ({"bench_flag"}, set())
        for schema in ("t_a", "t_b", "t_c", "t_d"):
            assert state(url, schema) == NONE
    finally:
        admin_sql(url, f'ALTER TABLE "{TEMPLATE}".procurement_vendor DROP COLUMN bench_flag')


@pytest.mark.slow
def test_a_failing_tenant_is_named_stops_the_run_and_is_rolled_back_whole(deployment):
    url = deployment
    # t_b already has 0004's column: 0003 applies there, then 0004 fails.
    admin_sql(url, "ALTER TABLE t_b.procurement_vendor ADD COLUMN bench_note text")

    result = manage(url, "migrate", "--noinput", "--processes", "1", extra="two")

    assert result.returncode == 1
    assert "migrate stopped at the first failure: tenant schema t_b: " in result.stderr
    assert 'column "bench_note" of relation "procurement_vendor" already exists' in result.stderr
    assert "1 tenant schemas migrated, 1 failed and rolled back, 2 untouched" in result.stderr
    assert state(url, TEMPLATE) == FULL  # the canary passed
    assert state(url, "t_a") == FULL
    # 0003 succeeded on t_b but the tenant's transaction took it back with 0004.
    assert state(url, "t_b") == ({"bench_note"}, set())
    assert state(url, "t_c") == NONE and state(url, "t_d") == NONE

    # Fixed: the next run migrates exactly the three tenants still behind, in parallel.
    admin_sql(url, "ALTER TABLE t_b.procurement_vendor DROP COLUMN bench_note")
    result = manage(url, "migrate", "--noinput", "--processes", "2", extra="two")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Migrating 3 tenant schemas over 2 processes"
    assert sorted(line.split("] ")[1].split(":")[0] for line in lines[1:4]) == ["t_b", "t_c", "t_d"]
    assert all("2 migrations migrated" in line for line in lines[1:4])
    assert lines[4].startswith("Done: 3 tenant schemas migrated in ")
    for schema in ("t_a", "t_b", "t_c", "t_d"):
        assert state(url, schema) == FULL

    result = manage(url, "migrate", "--noinput", extra="two")
    assert result.returncode == 0 and result.stdout.startswith("No migrations to apply")
