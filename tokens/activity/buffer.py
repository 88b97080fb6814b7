"""The activity log's writer: ``/api/v1`` requests buffered per worker, written in batches.

Write path
    ``ApiActivityLogMiddleware`` turns each request into a ``LogEntry`` and ``record`` appends it
    to this worker's spool segment (``tokens.activity.spool``: one JSON line, one ``os.write``
    on an ``O_APPEND`` descriptor) and to the in-memory queue, under one lock, before the
    response leaves the worker: no database round trip. A daemon thread writes the queue every
    ``WAQTI_ACTIVITY_FLUSH_SECONDS`` (default 1 s) with one ``COPY`` per tenant schema
    (``tokens.activity.rows``), on its own database connection, closed when it stops. The step
    that takes the queue also seals the segment (new entries go to a new one); the sealed
    segment is deleted once its entries are committed.

Durability
    * Normal shutdown or restart (gunicorn's graceful stop, restart and reload on SIGTERM,
      SIGINT, SIGQUIT, SIGHUP; Ctrl-C or an autoreload of runserver; any ``sys.exit``):
      nothing is lost. ``shutdown()`` runs from ``atexit`` and from the gunicorn ``worker_exit``
      hook (``tokens.activity.gunicorn_hooks``); it stops the thread, which writes what is left,
      then flushes once more.
    * The process killed (SIGKILL, gunicorn's kill after ``graceful_timeout`` or ``timeout``,
      the OOM killer, a segfault): nothing answered is lost. Its segments stay on disk; the
      kernel drops its ``flock``, so the next ``recover`` of any worker of the same spool
      directory (each flusher runs one at start, which the ``post_worker_init`` hook makes
      immediate, and after every flush) claims them and writes their entries, skipping those
      the dead worker had committed already (``rows.already_written``). A line cut short by
      the kill is skipped and counted (``unreadable``): its request was not answered.
    * The machine lost (power, kernel crash): entries are not ``fsync``-ed, so those written to
      the page cache in roughly the last 30 s (the kernel's writeback delay) may be lost with
      it, besides the spool directory itself if it lives on a disk that is lost.
    * No spool (``WAQTI_ACTIVITY_SPOOL_DIR`` empty, or the directory cannot be written: logged
      once, entries counted in ``spool_failures``): a killed process loses the entries of the
      last flush interval, about one second.
    * Database unreachable: entries stay queued (and spooled) and are retried every interval (the
      outage is logged once per incident, ``waqti.database_outage``); those kept are appended
      to the next segment before the old one is deleted. The queue holds at most
      ``WAQTI_ACTIVITY_BUFFER_MAX`` entries (about 1 KB each); beyond that the oldest are
      dropped and counted, and the count is logged (``waqti.activity``) at the next flush.
      Dead workers' segments wait on disk until the database is back.
    * An entry the database refuses (a data or constraint error; capture already makes values
      storable, ``tokens.activity.capture``) never takes its neighbours with it: the batch is
      split in halves and retried until each refused entry stands alone; only those are dropped,
      counted in ``rejected`` and logged once per flush and schema with their request ids.

Wiring gunicorn (``gunicorn.conf.py``; the hook module is safe to import before Django)::

    # gunicorn finds hooks by name
    from tokens.activity.gunicorn_hooks import post_worker_init, worker_exit  # noqa: F401

Tests: under pytest no thread is started (``WAQTI_ACTIVITY_BACKGROUND_FLUSH``) and there is no
spool (``WAQTI_ACTIVITY_SPOOL_DIR``) unless a test builds a buffer with one; they call
``buffer.flush()``, which writes in the calling thread's connection and transaction (a sealed
segment goes when that transaction commits).

What a request records (and how values are made storable): ``tokens.activity.capture``.
Reading and pruning the stored log: ``tokens.activity.log``.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import defaultdict, deque
from datetime import datetime

from django.conf import settings
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connections,
    transaction,
)
from django.http import HttpRequest, HttpResponse
from django_tenants.utils import schema_context

from tokens.activity import spool as spooling
from tokens.activity.capture import LogEntry, entry_for
from tokens.activity.rows import already_written, copy_rows
from waqti.database_outage import is_database_unavailable, outage

logger = logging.getLogger("waqti.activity")

# Errors caused by the values of some entry (PostgreSQL refused a value or a constraint, or
# psycopg could not encode one): the batch is split until the entry stands alone.
ENTRY_ERRORS = (DataError, IntegrityError, ValueError)
REFUSED_IDS_LOGGED = 10


class ActivityBuffer:
    """Bounded in-memory queue of log entries with an optional background flusher thread.

    ``record`` is safe from any thread and never touches the database. ``flush`` writes
    everything queued so far with one COPY per schema; entries that fail because the database
    is unreachable go back to the front of the queue, and an entry the database refuses is
    isolated and dropped alone.
    """

    def __init__(
        self,
        *,
        max_entries: int | None = None,
        flush_interval: float | None = None,
        background: bool | None = None,
        spool_directory: str | os.PathLike[str] | None = None,
    ) -> None:
        self.max_entries = max_entries or settings.WAQTI_ACTIVITY_BUFFER_MAX
        self.flush_interval = flush_interval or settings.WAQTI_ACTIVITY_FLUSH_SECONDS
        self.background = (
            settings.WAQTI_ACTIVITY_BACKGROUND_FLUSH if background is None else background
        )
        if spool_directory is None and settings.WAQTI_ACTIVITY_SPOOL_DIR:
            spool_directory = spooling.database_directory(
                settings.WAQTI_ACTIVITY_SPOOL_DIR, connections["default"].settings_dict
            )
        self.spool = spooling.Spool(spool_directory) if spool_directory else None
        self.dropped = 0  # oldest entries pushed out of a full buffer
        self.rejected = 0  # entries the database refused on their own
        self.written = 0
        self.recovered = 0  # entries written from dead workers' segments
        self.unreadable = 0  # spool lines skipped: cut short by a kill, or corrupt
        self.spool_failures = 0  # entries kept in memory only: the spool could not take them
        self._reset_state()
        self._atexit_registered = False

    def _reset_state(self) -> None:
        self._lock = threading.Lock()
        self._written_changed = threading.Condition(threading.Lock())
        self._entries: deque[LogEntry] = deque()
        self._unreported_drops = 0
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._pid = os.getpid()

        self._spool_failing = False

    def after_fork_in_child(self) -> None:
        """A forked worker starts empty: the parent still owns (and writes) what it buffered."""
        if self.spool is not None:
            self.spool.forget()
        self._reset_state()

    # --- write side -----------------------------------------------------------------------------

    def record(self, entry: LogEntry) -> None:
        """Queue ``entry``; with a spool, it is on disk (in the kernel) when this returns."""
        line = b""
        if self.spool is not None:
            try:
                line = spooling.encode(entry)
            except (TypeError, ValueError):  # a naive time: kept in memory, counted
                self.spool_failures += 1
        with self._lock:
            if line:
                self._spool_append(line)
            if len(self._entries) >= self.max_entries:
                self._entries.popleft()
                self.dropped += 1
                self._unreported_drops += 1
            self._entries.append(entry)
        if self.background and self._thread is None:
            self.start()

    def _spool_append(self, data: bytes) -> None:
        """Append to the live segment (the caller holds the lock); a failure is logged once."""
        assert self.spool is not None
        try:
            self.spool.append(data)
        except OSError as exc:
            self.spool_failures += data.count(b"\n")
            if not self._spool_failing:
                self._spool_failing = True
                logger.error(
                    "API activity log: cannot write the spool in %s, keeping entries in memory "
                    "only until it works again: %s",
                    self.spool.directory,
                    exc,
                )
        else:
            if self._spool_failing:
                self._spool_failing = False
                logger.warning(
                    "API activity log: the spool in %s works again", self.spool.directory
                )

    @property
    def pending(self) -> int:
        return len(self._entries)

    def discard(self) -> int:
        """Forget everything queued (tests); returns how many entries were dropped."""
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            sealed = self.spool.seal() if self.spool is not None else None
        if sealed is not None:
            sealed.release()
        return count

    def flush(self) -> int:
        """Write everything queued, one COPY per schema; returns the number of rows written.

        Runs in the caller's thread and database connection (inside its transaction, if any).
        The spool segment that held the entries is sealed in the same locked step that takes
        them, and deleted once they are committed (entries kept for a retry are appended to the
        next segment first).
        """
        with self._lock:
            entries = list(self._entries)
            self._entries.clear()
            sealed = self.spool.seal() if self.spool is not None else None
        try:
            written = self._write(entries)
        except BaseException:
            if sealed is not None:
                sealed.close()  # an orphan now: the next recovery writes it
            raise
        if sealed is not None:
            if transaction.get_connection().in_atomic_block:
                # Committed rows only: inside a caller's transaction, deleted when it commits.
                transaction.on_commit(sealed.release)
            else:
                # Autocommit: every COPY is committed already (and during an outage, asking for
                # on_commit would open a connection just to fail again).
                sealed.release()
        return written

    def _write(self, entries: list[LogEntry]) -> int:
        by_schema: dict[str, list[LogEntry]] = defaultdict(list)
        for entry in entries:
            by_schema[entry.schema_name].append(entry)
        written = 0
        retry: list[LogEntry] = []
        for schema_name, group in by_schema.items():
            group_written, keep = self._write_schema(schema_name, group)
            written += group_written
            retry.extend(keep)
        if retry:
            self._requeue(retry)
        self._report_drops()
        if written:
            with self._written_changed:
                self.written += written
                self._written_changed.notify_all()
        return written

    def _write_schema(self, schema_name: str, group: list[LogEntry]) -> tuple[int, list[LogEntry]]:
        """COPY ``group`` into ``schema_name``; returns (rows written, entries to keep for later).

        A batch refused for its data is split in halves, and each half retried, until every
        refused entry stands alone: only those are dropped. An outage keeps what is unwritten.
        """
        written = 0
        refused: list[tuple[LogEntry, Exception]] = []
        batches = [group]  # a stack whose top holds the earliest entries not yet written
        while batches:
            batch = batches.pop()
            try:
                # The savepoint keeps a failed batch from breaking a caller's open transaction.
                with schema_context(schema_name), transaction.atomic():
                    copy_rows(batch)
            except (OperationalError, InterfaceError) as exc:
                keep = [entry for pending in (batch, *reversed(batches)) for entry in pending]
                if is_database_unavailable(exc):
                    outage.noticed(exc)  # one line per incident, not one per flush
                else:
                    logger.warning(
                        "API activity log: database error, keeping %d entries for %s: %s",
                        len(keep),
                        schema_name,
                        exc,
                    )
                self._report_refused(schema_name, refused)
                return written, keep
            except ENTRY_ERRORS as exc:
                if len(batch) == 1:
                    refused.append((batch[0], exc))
                else:
                    middle = len(batch) // 2
                    batches += (batch[middle:], batch[:middle])
            except DatabaseError:
                # Not the entries' fault and not transient (e.g. the tenant's schema was
                # dropped): retrying cannot help.
                lost = len(batch) + sum(map(len, batches))
                logger.exception("API activity log: dropping %d entries for %s", lost, schema_name)
                break
            else:
                written += len(batch)
        self._report_refused(schema_name, refused)
        return written, []

    def _report_refused(self, schema_name: str, refused: list[tuple[LogEntry, Exception]]) -> None:
        if not refused:
            return
        with self._lock:
            self.rejected += len(refused)
        shown = ", ".join(entry.request_id for entry, _exc in refused[:REFUSED_IDS_LOGGED])
        more = ", ..." if len(refused) > REFUSED_IDS_LOGGED else ""
        logger.error(
            "API activity log: the database refused %d entries for %s on their own, dropped them "
            "(request ids %s%s); first error: %s",
            len(refused),
            schema_name,
            shown,
            more,
            refused[0][1],
        )

    def _requeue(self, entries: list[LogEntry]) -> None:
        lines = b"".join(map(spooling.encode, entries)) if self.spool is not None else b""
        with self._lock:
            if lines:
                self._spool_append(lines)
            self._entries.extendleft(reversed(entries))
            while len(self._entries) > self.max_entries:
                self._entries.popleft()
                self.dropped += 1
                self._unreported_drops += 1

    def _report_drops(self) -> None:
        with self._lock:
            count, self._unreported_drops = self._unreported_drops, 0
        if count:
            logger.warning(
                "API activity log buffer full (%d entries): dropped the %d oldest, %d since start",
                self.max_entries,
                count,
                self.dropped,
            )

    # --- recovery of dead workers' spool segments ----------------------------------------------

    def recover(self) -> int:
        """Write the entries of spool segments whose worker died; returns how many were written.

        Runs in the flusher thread, when it starts and after every flush. Entries the dead
        worker had committed already (it died between the commit and the unlink) are skipped
        (``already_written``). During an outage the segment stays for the next attempt.
        """
        if self.spool is None:
            return 0
        total = 0
        for segment in self.spool.claim_orphans():
            try:
                entries, unreadable = spooling.read_entries(segment.read())
                done, written, duplicates = self._write_recovered(entries)
            except BaseException:
                segment.close()
                raise
            total += written
            if not done:
                segment.close()
                break
            if not entries and not unreadable:  # its owner died before its first write
                transaction.on_commit(segment.release)
                continue
            with self._lock:
                self.recovered += written
                self.unreadable += unreadable
            logger.warning(
                "API activity log: recovered %d entries of a worker that died (%s; %d written "
                "before it died, %d unreadable lines skipped)",
                written,
                segment.path.name,
                duplicates,
                unreadable,
            )
            transaction.on_commit(segment.release)
        return total

    def _write_recovered(self, entries: list[LogEntry]) -> tuple[bool, int, int]:
        """COPY what the log lacks of ``entries``: (all done, rows written, duplicates skipped)."""
        by_schema: dict[str, list[LogEntry]] = defaultdict(list)
        for entry in entries:
            by_schema[entry.schema_name].append(entry)
        written = duplicates = 0
        for schema_name, group in by_schema.items():
            try:
                with schema_context(schema_name), transaction.atomic():
                    known = already_written(group)
            except (OperationalError, InterfaceError) as exc:
                logger.warning("API activity log: database unreachable, recovery later: %s", exc)
                return False, written, duplicates
            except DatabaseError:
                logger.exception(
                    "API activity log: dropping %d recovered entries for %s",
                    len(group),
                    schema_name,
                )
                continue
            fresh = [entry for entry in group if (entry.occurred_at, entry.request_id) not in known]
            duplicates += len(group) - len(fresh)
            group_written, keep = self._write_schema(schema_name, fresh)
            written += group_written
            if keep:
                return False, written, duplicates
        return True, written, duplicates

    def wait_until_written(self, count: int, timeout: float) -> bool:
        """Block until at least ``count`` rows were written in total (tests, health checks)."""
        with self._written_changed:
            return self._written_changed.wait_for(lambda: self.written >= count, timeout)

    # --- background flusher ---------------------------------------------------------------------

    def start(self) -> None:
        """Start this process's flusher thread (idempotent) and register the exit flush."""
        with self._lock:
            if self._thread is not None:
                return
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._run, name="waqti-activity-flusher", daemon=True
            )
            self._thread.start()
            if not self._atexit_registered:
                atexit.register(self.stop)
                self._atexit_registered = True

    def _run(self) -> None:
        try:
            self._flush_and_tidy()  # recovers what dead workers left, at once
            while not self._stopping.wait(self.flush_interval):
                self._flush_and_tidy()
            self._flush_and_tidy()
        finally:
            connections.close_all()  # only this thread's connections

    def _flush_and_tidy(self) -> None:
        try:
            self.flush()
        except Exception:
            logger.exception("API activity log: flush failed")
        try:
            self.recover()
        except Exception:
            logger.exception("API activity log: recovery failed")
        # Honour CONN_MAX_AGE and drop a connection broken by a database restart, as requests do.
        close_old_connections()

    def stop(self, timeout: float = 10.0) -> int:
        """Stop the flusher thread, then write whatever is still queued; returns rows written.

        The final flush runs in the calling thread too, so nothing stays behind when the thread
        never started or did not finish in time.
        """
        thread = self._thread
        if thread is not None and self._pid == os.getpid():
            self._stopping.set()
            thread.join(timeout)
            if thread.is_alive():
                logger.error("API activity log: flusher did not stop within %.0f s", timeout)
        self._thread = None
        return self.flush() if self._entries else 0


buffer = ActivityBuffer()
os.register_at_fork(after_in_child=buffer.after_fork_in_child)


def record_request(
    request: HttpRequest, response: HttpResponse, started: float, occurred_at: datetime
) -> None:
    """Queue the finished request; the log must never break the request it describes."""
    try:
        duration_ms = (time.perf_counter() - started) * 1000
        entry = entry_for(request, response, occurred_at=occurred_at, duration_ms=duration_ms)
        buffer.record(entry)
    except Exception:
        logger.exception("API activity log: could not record %s %s", request.method, request.path)


def shutdown() -> int:
    """Flush everything before the process exits (atexit does this too; safe to call twice)."""
    return buffer.stop()
