"""Running test code on a database connection of its own, in a new thread (so it commits)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

from faults.servers import free_port


def on_own_connection(fn: Callable[[], Any], *, refused: bool = False) -> Any:
    """Run ``fn`` in a new thread, on a connection of its own (committing), closed afterwards;
    return its result or raise its error.

    ``refused``: that connection points at a loopback port nobody listens on, so every attempt
    to reach PostgreSQL fails as it does when the server is stopped (connection refused).
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            if refused:
                connection.settings_dict = {
                    **connection.settings_dict,
                    "HOST": "127.0.0.1",
                    "PORT": str(free_port()),
                }
            outcome["value"] = fn()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=120)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
