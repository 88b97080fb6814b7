"""Gunicorn server hooks of the activity log: ``from tokens.activity.gunicorn_hooks import
post_worker_init, worker_exit`` in a gunicorn config file.

Gunicorn loads its config file before Django is set up, so this module imports nothing of
Django at import time.
"""

from __future__ import annotations

from typing import Any


def worker_exit(server: Any, worker: Any) -> None:
    """Write the worker's buffered API activity log entries before it exits."""
    from tokens.activity.buffer import shutdown  # the worker has set Django up by now

    shutdown()


def post_worker_init(worker: Any) -> None:
    """Start the worker's flusher at once: it writes what dead workers left in the spool,
    even if this worker never gets a request."""
    from tokens.activity.buffer import buffer

    if buffer.background:
        buffer.start()
