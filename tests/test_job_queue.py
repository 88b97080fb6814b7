"""The job queue (procrastinate on the project's PostgreSQL): periodic maintenance registered, and
a real worker process running deferred jobs against every tenant (``tokens/tasks.py``)."""

from __future__ import annotations

import os
import time

import psycopg
import pytest
from procrastinate.contrib.django import app
from psycopg import sql

from tenancy.services import schema_name_for_slug
from tests.live_server import manage, run_manage, server_env, throwaway_database
from tokens import tasks

TENANTS = ("queue-one", "queue-two")

# Run by `manage.py shell` in the throwaway database: per tenant, a 200-day-old and a fresh
# activity entry, and a token revoked 200 days ago beside a live one.
SEED = """
from datetime import timedelta
from django.utils import timezone
from django_tenants.utils import schema_context
from tenancy.services import schema_name_for_slug
from tokens.activity.models import ApiRequestLog
from tokens.models import ApiToken
from tokens.services import Actor, token_create

now = timezone.now()
for slug in {slugs!r}:
    with schema_context(schema_name_for_slug(slug)):
        for age, request_id in ((200, "old"), (1, "fresh")):
            ApiRequestLog.objects.create(
                occurred_at=now - timedelta(days=age), method="GET", path="/api/v1/me",
                status=200, duration_ms=1.0, request_id=request_id,
            )
        for name in ("gone", "kept"):
            token_create(name=name, abilities=["read"], actor=Actor(label="tests"))
        ApiToken.objects.filter(name="gone").update(revoked_at=now - timedelta(days=200))
"""


def test_maintenance_is_scheduled_daily_on_its_own_queue():
    scheduled = {
        (periodic.task.name, periodic.cron, periodic.task.queue)
        for periodic in app.periodic_registry.periodic_tasks.values()
    }
    assert ("tokens.prune_api_logs", "17 3 * * *", "maintenance") in scheduled
    assert ("tokens.prune_tokens", "47 3 * * *", "maintenance") in scheduled
    assert ("tokens.token_reminders", "0 6 * * *", "maintenance") in scheduled
    assert ("queue.retry_stalled_jobs", "* * * * *", "maintenance") in scheduled
    assert ("queue.remove_old_jobs", "27 4 * * *", "maintenance") in scheduled
    assert ("webhooks.prune_deliveries", "37 4 * * *", "maintenance") in scheduled
    assert tasks.prune_api_logs.retry_strategy.max_attempts == 5


def rows(database: str, slug: str) -> tuple[list[str], list[str]]:
    schema = sql.Identifier(schema_name_for_slug(slug))
    with psycopg.connect(database, autocommit=True) as conn:
        logs = conn.execute(
            sql.SQL("SELECT request_id FROM {}.tokens_apirequestlog ORDER BY 1").format(schema)
        ).fetchall()
        tokens = conn.execute(
            sql.SQL("SELECT name FROM {}.tokens_apitoken ORDER BY 1").format(schema)
        ).fetchall()
    return [r for (r,) in logs], [n for (n,) in tokens]


def jobs(database: str) -> list[tuple[str, str, int]]:
    with psycopg.connect(database, autocommit=True) as conn:
        return conn.execute(
            # The worker's scheduler may also defer the every-minute queue.retry_stalled_jobs.
            "SELECT task_name, status, attempts FROM procrastinate_jobs "
            "WHERE task_name LIKE 'tokens.%' ORDER BY task_name"
        ).fetchall()


@pytest.mark.slow
def test_a_real_worker_runs_deferred_jobs_in_every_tenant(django_db_blocker):
    with django_db_blocker.unblock(), throwaway_database(f"waqti_queue_{os.getpid()}") as database:
        env = server_env(database)
        manage(env, "migrate", "--noinput", "-v", "0")
        for slug in TENANTS:
            manage(
                env,
                "add_tenant",
                slug,
                "--name",
                slug,
                "--domain",
                f"{slug}.localhost",
                "--plan",
                "professional",
            )
        manage(env, "shell", "-c", SEED.format(slugs=TENANTS))
        stamp = str(int(time.time()))
        for task in ("tokens.prune_api_logs", "tokens.prune_tokens"):
            manage(env, "procrastinate", "defer", task, f'{{"timestamp": {stamp}}}')
        assert jobs(database) == [
            ("tokens.prune_api_logs", "todo", 0),
            ("tokens.prune_tokens", "todo", 0),
        ]
        assert rows(database, TENANTS[0]) == (["fresh", "old"], ["gone", "kept"])

        worker = run_manage(env, "procrastinate", "worker", "--one-shot", "-q", "maintenance")
        assert worker.returncode == 0, worker.stdout + worker.stderr
        for slug in TENANTS:
            assert rows(database, slug) == (["fresh"], ["kept"])
        assert jobs(database) == [
            ("tokens.prune_api_logs", "succeeded", 1),
            ("tokens.prune_tokens", "succeeded", 1),
        ]
        assert "pruned 2 API log entries older than 90 days across 2 tenants" in worker.stderr
