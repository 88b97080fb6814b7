"""The activity log's spool: each worker's entries on local disk before its answer leaves it.

A worker appends every entry as one JSON line to its *live segment*, a file in the spool
directory, with one ``os.write`` on an ``O_APPEND`` descriptor, before the response is sent.
There is no ``fsync``: what ``write`` handed to the kernel survives the process (``SIGKILL``,
the OOM killer, a segfault), not the machine (power loss, a kernel crash).

Ownership is a lock, not a pid: a worker creates a segment under a temporary name, takes an
exclusive ``flock`` on it and only then renames it to ``*.spool``, and keeps the lock until the
segment's entries are committed and the file unlinked. The kernel drops the lock when the
process dies, however it dies, so a segment whose lock can be taken is an orphan
(``claim_orphans``), whatever pid now runs; a reused pid changes nothing.

Lines are JSON arrays ``[schema, occurred_at, token_id, token_name, method, path, query_string,
status, duration_ms, ip_address, user_agent, request_id]`` (``LogEntry``'s fields, in order;
``occurred_at`` in microseconds since 1970-01-01 UTC), about 170 bytes; encoding one costs
about 5 µs.
A line cut short by a kill in the middle of a write, or otherwise unreadable, is skipped and
counted by ``read_entries``, never raised.

The writer that decides when to rotate, what to write and when a segment may go:
``tokens.activity.buffer``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tokens.activity.capture import LogEntry

SUFFIX = ".spool"
CREATING = ".creating"  # a segment not yet locked: never claimed while it may be fresh
STALE_CREATING_SECONDS = 60
# ASCII only (other characters as \u escapes): measured faster than ensure_ascii=False here.
_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)
_FIELDS = len(LogEntry.__slots__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def encode(entry: LogEntry) -> bytes:
    """One spool line (with its newline) for ``entry``; ``TypeError`` for a naive time."""
    return (
        _ENCODER.encode(
            (
                entry.schema_name,
                (entry.occurred_at - EPOCH) // MICROSECOND,  # exact; half the cost of isoformat()
                entry.token_id,
                entry.token_name,
                entry.method,
                entry.path,
                entry.query_string,
                entry.status,
                entry.duration_ms,
                entry.ip_address,
                entry.user_agent,
                entry.request_id,
            )
        )
        + "\n"
    ).encode()


def decode(line: bytes) -> LogEntry:
    """The entry of one spool line (without its newline); ``ValueError`` if it is not one."""
    try:
        values = json.loads(line)
    except UnicodeDecodeError as exc:
        raise ValueError(str(exc)) from exc
    if not isinstance(values, list) or len(values) != _FIELDS:
        raise ValueError("not a spool line")
    if not isinstance(values[0], str) or type(values[1]) is not int:
        raise ValueError("not a spool line")
    try:
        occurred_at = EPOCH + values[1] * MICROSECOND
    except OverflowError as exc:
        raise ValueError(str(exc)) from exc
    return LogEntry(values[0], occurred_at, *values[2:])


def read_entries(data: bytes) -> tuple[list[LogEntry], int]:
    """The entries of a segment's content and how many lines were skipped as unreadable.

    The last line without its newline is the trace of a write cut short: skipped, counted.
    """
    *lines, tail = data.split(b"\n")
    entries: list[LogEntry] = []
    skipped = 1 if tail else 0
    for line in lines:
        if not line:
            continue
        try:
            entries.append(decode(line))
        except (ValueError, TypeError):
            skipped += 1
    return entries, skipped


def database_directory(root: str | os.PathLike[str], database: dict[str, object]) -> Path:
    """The spool directory of one database under ``root``: segments never cross databases."""
    identity = f"{database.get('NAME')}@{database.get('HOST') or 'local'}-{database.get('PORT')}"
    return Path(root) / _UNSAFE_NAME.sub("_", identity)


@dataclass
class Segment:
    """An open, ``flock``-ed spool file."""

    fd: int
    path: Path

    def read(self) -> bytes:
        chunks = []
        os.lseek(self.fd, 0, os.SEEK_SET)
        while chunk := os.read(self.fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)

    def release(self) -> None:
        """Delete the file, then drop the lock: nobody can claim it in between."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.close()

    def close(self) -> None:
        """Drop the lock (and the descriptor), leaving the file for recovery."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Spool:
    """One process's segments in ``directory``.

    Not thread-safe: the buffer calls ``append`` and ``seal`` under its own lock.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.live: Segment | None = None

    def new_segment(self) -> Segment:
        """A fresh empty segment, locked by this process before any other can see it."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        stem = f"{os.getpid()}-{secrets.token_hex(8)}"
        creating = self.directory / (stem + CREATING)
        fd = os.open(
            creating, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600
        )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path = self.directory / (stem + SUFFIX)
            os.rename(creating, path)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(creating)
            raise
        return Segment(fd, path)

    def append(self, line: bytes) -> None:
        """Append ``line`` to the live segment (created on first use); ``OSError`` if impossible."""
        if self.live is None:
            self.live = self.new_segment()
        view = memoryview(line)
        while view:  # a regular file takes it in one write; a full disk raises
            view = view[os.write(self.live.fd, view) :]

    def seal(self, fresh: Segment | None = None) -> Segment | None:
        """Stop appending to the live segment; return it (still locked), ``fresh`` becomes live."""
        sealed, self.live = self.live, fresh
        return sealed

    def forget(self) -> None:
        """In a forked child: close the inherited descriptors, leaving the parent's lock alone."""
        if self.live is not None:
            self.live.close()
            self.live = None

    def claim_orphans(self) -> Iterator[Segment]:
        """Lock and yield, one at a time, the segments whose owner is gone.

        A segment already released by whoever claimed it before (unlinked: no link left) is
        skipped. The caller must ``release()`` (entries written) or ``close()`` (try later) it.
        """
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return
        own = self.live.path.name if self.live is not None else None
        for name in names:
            path = self.directory / name
            if name == own:
                continue
            if name.endswith(CREATING):
                self._remove_stale_creating(path)
                continue
            if not name.endswith(SUFFIX):
                continue
            segment = self._try_lock(path)
            if segment is not None:
                yield segment

    @staticmethod
    def _try_lock(path: Path) -> Segment | None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        if os.fstat(fd).st_nlink == 0:  # released by the previous claimant after we opened it
            os.close(fd)
            return None
        return Segment(fd, path)

    def _remove_stale_creating(self, path: Path) -> None:
        """A creator killed before its rename left an empty file: remove it once it is old."""
        try:
            if time.time() - path.stat().st_mtime < STALE_CREATING_SECONDS:
                return
        except FileNotFoundError:
            return
        segment = self._try_lock(path)
        if segment is not None:
            segment.release()
