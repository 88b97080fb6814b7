"""Database outages: which errors mean "PostgreSQL is unreachable", and one log line per incident.

What counts (``is_database_unavailable``, pure): an error whose cause is a psycopg error with
  * SQLSTATE class 08 (connection exception: refused by the server, connection failure, ...),
  * SQLSTATE 57P01 ``admin_shutdown`` (a fast stop, ``pg_terminate_backend``), 57P02
    ``crash_shutdown``, 57P03 ``cannot_connect_now`` (starting up, shutting down, recovering),
    53300 ``too_many_connections``;
  * or no SQLSTATE at all on an ``OperationalError``: raised by libpq/psycopg itself, never by the
    server, when a connection cannot be opened or is lost (connection refused, connect timeout,
    "server closed the connection unexpectedly", "the connection is closed").
Everything else is a query's own error and stays a 500 with its traceback: a programming error
(42xxx), a data error (22xxx), a cancelled statement (57014), psycopg's ``InterfaceError`` (the
library misused: a closed cursor, a missing adapter; psycopg 3 reports a lost connection as an
``OperationalError``).

The answer (``waqti.api.errors``): 503 ``{"message": "Service temporarily unavailable.",
"errors": {}}`` with ``Retry-After: RETRY_AFTER_SECONDS``. The incident (``OutageLog``, one per
process): the first such error logs one ERROR line on ``waqti.database`` with the error on one
line; the next connection PostgreSQL accepts (Django's ``connection_created`` signal, from any
thread of the process: a request or the activity log's flusher) logs one line saying it is back,
how long it was gone and how many requests were answered 503. Nothing else is logged per request:
``RequestLogFilter`` on the ``django.request`` logger (and on
``django.security.SessionInterrupted``, where Django logs a session it could not save) drops the
line and traceback Django would log for a response answered this way.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.exceptions import SessionInterrupted
from django.db.backends.signals import connection_created
from django.http import HttpRequest

logger = logging.getLogger("waqti.database")

# Seconds a client is asked to wait (``Retry-After``): a restart takes about one second, a
# failover tens of seconds; clients retrying every few seconds find the database soon enough.
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08"})
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
# A request answered 503 for an outage carries this WSGI environ key (``RequestLogFilter``).
REQUEST_MARK = "waqti.database_unavailable"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what it was explicitly raised from (Django raises its ``OperationalError``
    ``from`` psycopg's), without loops. An error merely raised while handling an outage
    (``__context__``) is its own error."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means PostgreSQL cannot be reached (see the module's docstring)."""
    for error in _causes(exc):
        if isinstance(error, psycopg.Error):
            sqlstate = error.sqlstate
            if sqlstate is None:
                return isinstance(error, psycopg.OperationalError)
            return sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES or sqlstate in UNAVAILABLE_SQLSTATES
    return False


def interrupted_session_outage(exc: BaseException | None) -> BaseException | None:
    """The database outage behind Django's ``SessionInterrupted`` (its 400), if that is what it
    hides: ``SessionMiddleware`` saves a modified session after the view, the database session
    backend turns any ``DatabaseError`` of its UPDATE into ``UpdateError``, and the middleware that
    into ``SessionInterrupted``, each raised while handling the one before (``__context__``)."""
    if not isinstance(exc, SessionInterrupted):
        return None
    update_error = exc.__context__
    if not isinstance(update_error, UpdateError) or update_error.__context__ is None:
        return None
    database_error = update_error.__context__
    return database_error if is_database_unavailable(database_error) else None


def one_line(exc: BaseException) -> str:
    """``Class: message`` with libpq's multi-line messages folded onto one line."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


class OutageLog:
    """This process's view of the database: reachable, or unreachable since an incident began."""

    clock = staticmethod(time.monotonic)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._since: float | None = None
            self._last_failure = float("-inf")
            self._answered = 0

    @property
    def down(self) -> bool:
        """An incident is open: an outage was seen and no connection has succeeded since."""
        return self._since is not None

    def recently_failed(self) -> bool:
        """An incident is open and its last failure is younger than ``RETRY_AFTER_SECONDS``:
        optional writes (``last_used_at``) are skipped rather than tried on every request."""
        return self.down and self.clock() - self._last_failure < RETRY_AFTER_SECONDS

    def noticed(self, exc: BaseException, *, answered: bool = False) -> None:
        """An outage error was seen (``answered``: a request got the 503). Logs only the first
        of an incident."""
        with self._lock:
            now = self.clock()
            self._last_failure = now
            self._answered += answered
            if self._since is not None:
                return
            self._since = now
        logger.error(
            "database unavailable in pid %d (%s); answering 503 with Retry-After: %d until a "
            "connection succeeds",
            os.getpid(),
            one_line(exc),
            RETRY_AFTER_SECONDS,
        )

    def connected(self) -> None:
        """A new connection was opened: ends the open incident, if any, with one line."""
        with self._lock:
            since, answered = self._since, self._answered
            if since is None:
                return
            self._since = None
            self._answered = 0
            elapsed = self.clock() - since
        logger.warning(
            "database available again in pid %d after %.1f s; %d requests were answered 503",
            os.getpid(),
            elapsed,
            answered,
        )


outage = OutageLog()


def _on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    outage.connected()


connection_created.connect(_on_connection_created, dispatch_uid="waqti.database_outage")


def mark_answered(request: HttpRequest, exc: BaseException) -> None:
    """Count ``request``'s 503 in the incident and keep Django from logging it
    (``RequestLogFilter``). ``request.META`` is the same dict on DRF's request."""
    request.META[REQUEST_MARK] = True
    outage.noticed(exc, answered=True)


class RequestLogFilter(logging.Filter):
    """On ``django.request``: drop the line (and traceback) of a request answered 503 for a
    database outage; the incident's own two lines say it once (``OutageLog``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and getattr(request, "META", {}).get(REQUEST_MARK):
            return False
        exc = record.exc_info[1] if record.exc_info else None
        return exc is None or not is_database_unavailable(exc)
