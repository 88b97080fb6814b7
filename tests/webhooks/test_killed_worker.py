"""A worker killed in the middle of a delivery loses no event: its job is queued again once the
worker's heartbeat stops (``tenancy/tasks.py``) and another worker delivers it, with the same
``webhook-id``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import psycopg
import pytest
from standardwebhooks.webhooks import Webhook

from tests.live_server import ROOT, manage, server_env, throwaway_database
from tests.webhooks.test_webhooks import Receiver

CREATE = """
from django.db import transaction
from django_tenants.utils import schema_context
from tenancy.services import schema_name_for_slug
from procurement import services
from webhooks.delivery import new_secret
from webhooks.models import Subscription

with schema_context(schema_name_for_slug("hooks")):
    secret = new_secret()
    Subscription.objects.create(name="ERP", url={url!r}, events=["vendor.created"], secret=secret)
    services.vendor_create(name="Jarir")
    print(secret)
"""


def worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "procrastinate", "worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def job_statuses(database: str) -> list[tuple[str, str]]:
    with psycopg.connect(database, autocommit=True) as conn:
        return conn.execute(
            "SELECT task_name, status FROM procrastinate_jobs WHERE queue_name = 'webhooks'"
        ).fetchall()


@pytest.mark.slow
def test_a_killed_worker_loses_no_event(django_db_blocker: Any) -> None:
    database_name = f"waqti_hooks_{os.getpid()}"
    with (
        django_db_blocker.unblock(),
        throwaway_database(database_name) as database,
        Receiver([]) as receiver,
    ):
        receiver.delay_first = 30.0  # the first attempt hangs until the worker is killed
        env = server_env(database, DJANGO_DEBUG="1", WAQTI_WEBHOOKS_ALLOW_LOOPBACK="1")
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(
            env,
            "add_tenant",
            "hooks",
            "--name",
            "Hooks",
            "--domain",
            "hooks.localhost",
            "--plan",
            "professional",
        )
        secret = (
            manage(env, "shell", "-c", CREATE.format(url=receiver.url)).strip().splitlines()[-1]
        )

        first = worker(env, "-q", "webhooks")
        deadline = time.monotonic() + 60
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert receiver.received, "the worker never tried the delivery"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        assert job_statuses(database) == [("webhooks.deliver", "doing")]

        time.sleep(32)  # the dead worker's heartbeat goes stale (30 s)
        # Also deferred each minute by every worker's scheduler: at most one waits at a time.
        manage(env, "procrastinate", "defer", "-i", "queue.retry_stalled_jobs", '{"timestamp": 0}')
        second = worker(env, "--one-shot")
        output, _ = second.communicate(timeout=120)
        assert second.returncode == 0, output
        assert "of a dead worker queued again" in output
        assert job_statuses(database) == [("webhooks.deliver", "succeeded")]
        assert len(receiver.received) == 2
        (headers_1, body_1), (headers_2, body_2) = receiver.received
        assert headers_1["webhook-id"] == headers_2["webhook-id"] and body_1 == body_2
        assert Webhook(secret).verify(body_2, headers_2)["type"] == "vendor.created"
