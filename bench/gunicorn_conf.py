"""The one gunicorn configuration both the API and the floor are served with during `make bench`."""

from __future__ import annotations

import os

bind = os.environ.get("BENCH_BIND", "127.0.0.1:8201")
workers = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 2)))
# Sync workers (gunicorn's default, one connection per request as behind a proxy without
# upstream keep-alive): the kernel spreads connections evenly over the workers. With gthread and
# keep-alive, wrk's few long-lived connections often all land on one worker, halving throughput
# at random.
worker_class = os.environ.get("BENCH_WORKER_CLASS", "sync")
backlog = 2048
timeout = 60
graceful_timeout = 20
accesslog = None
errorlog = "-"
loglevel = "warning"
proc_name = os.environ.get("BENCH_PROC_NAME", "waqti-bench")

# Production wiring of the API (tokens/activity/buffer.py): start the activity-log flusher with
# a worker and flush the buffer when it exits. The floor has no such app.
if os.environ.get("DJANGO_SETTINGS_MODULE", "waqti.settings") == "waqti.settings":
    from tokens.activity.gunicorn_hooks import post_worker_init, worker_exit  # noqa: F401 - gunicorn finds hooks by name
