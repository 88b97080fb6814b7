"""What counts as "the database is unavailable" (waqti.database_outage): the pure classifier,
on psycopg's own error classes and on errors raised by a real PostgreSQL and a real libpq."""

from __future__ import annotations

import logging

import django.db as dj
import psycopg
import psycopg.errors
import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.exceptions import SessionInterrupted
from django.db import connection

from faults.servers import free_port
from waqti.database_outage import (
    RequestLogFilter,
    interrupted_session_outage,
    is_database_unavailable,
)

OUTAGE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}


def _every_sqlstate_class() -> list[type[psycopg.Error]]:
    classes = {
        cls.sqlstate: cls
        for cls in vars(psycopg.errors).values()
        if isinstance(cls, type) and issubclass(cls, psycopg.Error) and cls.sqlstate
    }
    return [classes[code] for code in sorted(classes)]


def as_django(error: psycopg.Error, kind: type[dj.Error] = dj.OperationalError) -> dj.Error:
    """``error`` as Django's cursor raises it: Django's class, raised from the driver's."""
    try:
        try:
            raise error
        except psycopg.Error as driver_error:
            raise kind(str(driver_error)) from driver_error
    except dj.Error as wrapped:
        return wrapped


@pytest.mark.parametrize("cls", _every_sqlstate_class(), ids=lambda cls: cls.sqlstate)
def test_classifier_every_sqlstate_class_08_and_the_shutdown_codes_only(cls):
    expected = cls.sqlstate.startswith("08") or cls.sqlstate in OUTAGE_SQLSTATES
    assert is_database_unavailable(cls("x")) is expected
    assert is_database_unavailable(as_django(cls("x"))) is expected


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.CrashShutdown("terminating connection because of crash"),
        psycopg.errors.CannotConnectNow("the database system is shutting down"),
        psycopg.errors.TooManyConnections("sorry, too many clients already"),
        psycopg.errors.ConnectionFailure("connection failure"),
        psycopg.errors.ConnectionTimeout("connection timeout expired"),  # client-side, no SQLSTATE
        psycopg.OperationalError("connection failed: Connection refused"),
        psycopg.OperationalError("consuming input failed: server closed the connection"),
        psycopg.OperationalError("the connection is closed"),
    ],
    ids=repr,
)
def test_classifier_connection_level_errors_are_outages(error):
    assert is_database_unavailable(error)
    assert is_database_unavailable(as_django(error))


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.UndefinedTable('relation "x" does not exist'),
        psycopg.errors.SyntaxError("syntax error"),
        psycopg.errors.UniqueViolation("duplicate key"),
        psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
        psycopg.errors.LockNotAvailable("could not obtain lock"),
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.DiskFull("could not extend file"),
        psycopg.InterfaceError("the cursor is closed"),  # psycopg misused, not the server gone
        psycopg.ProgrammingError("query has no results"),
    ],
    ids=repr,
)
def test_classifier_query_errors_are_not_outages(error):
    assert not is_database_unavailable(error)
    assert not is_database_unavailable(as_django(error, dj.ProgrammingError))


def test_classifier_non_database_errors_and_implicit_context_are_not_outages():
    assert not is_database_unavailable(ValueError("x"))
    assert not is_database_unavailable(dj.OperationalError("no driver error behind it"))
    try:
        try:
            raise psycopg.errors.AdminShutdown("x")
        except psycopg.Error:
            raise KeyError("a bug in an except block") from None
    except KeyError as bug:
        assert not is_database_unavailable(bug)
    try:
        try:
            raise psycopg.errors.AdminShutdown("x")
        except psycopg.Error:
            {}["missing"]  # implicitly chained (__context__), still the code's own bug
    except KeyError as bug:
        assert bug.__context__ is not None
        assert not is_database_unavailable(bug)


def test_classifier_real_refused_connection_is_an_outage():
    port = free_port()  # bound, then released: nobody listens there
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(host="127.0.0.1", port=port, dbname="x", user="x", connect_timeout=3)
    assert is_database_unavailable(refused.value)


def test_classifier_real_terminated_backend_is_an_outage(db):
    victim = psycopg.connect(
        **{k: v for k, v in connection.get_connection_params().items() if k != "context"}
    )
    try:
        pid = victim.info.backend_pid
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
        with pytest.raises(psycopg.OperationalError) as terminated:
            victim.execute("SELECT 1")
        assert is_database_unavailable(terminated.value)
    finally:
        victim.close()


def test_classifier_real_query_error_is_not_an_outage(db):
    with pytest.raises(dj.ProgrammingError) as missing, connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table_for_the_classifier")
    assert not is_database_unavailable(missing.value)


def _record(exc: BaseException | None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("django.request", logging.ERROR, __file__, 1, "m", (), exc_info)


def test_request_log_filter_drops_outage_tracebacks_only():
    keep = RequestLogFilter().filter
    assert not keep(_record(as_django(psycopg.errors.AdminShutdown("x"))))
    assert keep(_record(as_django(psycopg.errors.UndefinedTable("x"), dj.ProgrammingError)))
    assert keep(_record(None))


def _session_interrupted(database_error: BaseException) -> BaseException:
    """The chain Django's session middleware raises when saving a session fails."""
    try:
        try:
            try:
                raise database_error
            except dj.DatabaseError:
                raise UpdateError from None  # Django raises it bare: __context__ only
        except UpdateError:
            raise SessionInterrupted("The request's session was deleted before it completed.")  # noqa: B904
    except SessionInterrupted as interrupted:
        return interrupted


def test_an_interrupted_session_hides_an_outage_only_when_its_update_met_one():
    outage = as_django(psycopg.errors.AdminShutdown("x"))
    assert interrupted_session_outage(_session_interrupted(outage)) is outage
    bug = as_django(psycopg.errors.UndefinedTable("x"), dj.ProgrammingError)
    assert interrupted_session_outage(_session_interrupted(bug)) is None
    assert interrupted_session_outage(SessionInterrupted("deleted meanwhile")) is None
    assert interrupted_session_outage(outage) is None
    assert interrupted_session_outage(None) is None
