"""The activity log's spool: the line format, segments and their locks, and recovery into the log.

Ownership is an ``flock`` on an open file description, so a second ``Spool`` in this process
stands for another worker: while one holds its segment, the other cannot claim it; closing the
descriptor is what the kernel does for a killed process.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError
from django_tenants.utils import tenant_context
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tokens.activity_helpers import entry
from tokens.activity import spool as spooling
from tokens.activity.buffer import ActivityBuffer
from tokens.activity.capture import LogEntry
from tokens.activity.spool import Spool, decode, encode, read_entries
from tokens.models import ApiRequestLog

# --- the line format ------------------------------------------------------------------------------

texts = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))
entries = st.builds(
    LogEntry,
    schema_name=st.sampled_from(["t_acme_corp", "t_globex"]),
    occurred_at=st.datetimes(timezones=st.just(UTC)),
    token_id=st.none() | st.integers(0, 2**63 - 1),
    token_name=texts,
    method=texts,
    path=texts,
    query_string=texts,
    status=st.integers(100, 599),
    duration_ms=st.floats(0, 1e6),
    ip_address=st.none() | st.sampled_from(["10.0.0.1", "2001:db8::1"]),
    user_agent=texts,
    request_id=texts,
)


@settings(deadline=None)  # no timing assert: the machine may be busy
@given(entries)
def test_spool_line_round_trips_any_entry_on_one_line(value):
    line = encode(value)
    assert line.endswith(b"\n") and line.count(b"\n") == 1  # newlines in values are escaped
    assert decode(line[:-1]) == value


def test_spool_read_skips_and_counts_a_line_cut_short_by_a_kill():
    first, second = entry(request_id="a"), entry(request_id="b")
    data = encode(first) + encode(second)
    for cut in range(len(encode(first)) + 1, len(data)):  # every point inside the second write
        assert read_entries(data[:cut]) == ([first], 1)
    assert read_entries(data) == ([first, second], 0)
    assert read_entries(b"") == ([], 0)


@pytest.mark.parametrize(
    "garbage",
    [
        b"{}",
        b"[1,2]",
        b"\xff\xfe",
        b'["t","2025-01-01T10:00:00Z",1,"","GET","/","",200,1.0,null,"","r"]',
        b'["t",1.5,1,"","GET","/","",200,1.0,null,"","r"]',
        b'["t",true,1,"","GET","/","",200,1.0,null,"","r"]',
        b'["t",1000000000000000000000000,1,"","GET","/","",200,1.0,null,"","r"]',
        b"null",
    ],
)
def test_spool_read_skips_and_counts_a_corrupt_line(garbage):
    good = entry(request_id="good")
    assert read_entries(encode(good) + garbage + b"\n" + encode(good)) == ([good, good], 1)


def test_spool_directory_is_one_per_database(tmp_path):
    one = spooling.database_directory(tmp_path, {"NAME": "waqti", "HOST": "db", "PORT": 5432})
    other = spooling.database_directory(tmp_path, {"NAME": "waqti", "HOST": "db", "PORT": 5433})
    odd = spooling.database_directory(tmp_path, {"NAME": "../x y", "HOST": "", "PORT": ""})
    assert one != other
    assert one.parent == other.parent == odd.parent == tmp_path


# --- segments and locks ---------------------------------------------------------------------------


def segment_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_spool_segment_of_a_live_owner_is_never_claimed(tmp_path):
    worker, recoverer = Spool(tmp_path), Spool(tmp_path)
    worker.append(encode(entry(request_id="a")))
    sealed = worker.seal()
    worker.append(encode(entry(request_id="b")))
    assert sealed is not None and worker.live is not None
    assert list(recoverer.claim_orphans()) == []  # both the sealed and the live one are held
    sealed.release()
    assert segment_files(tmp_path) == [worker.live.path.name]
    assert list(recoverer.claim_orphans()) == []


def test_spool_segment_of_a_dead_owner_is_claimed_once(tmp_path):
    worker = Spool(tmp_path)
    worker.append(encode(entry(request_id="a")))
    assert worker.live is not None
    worker.live.close()  # the kernel does this when the worker is killed
    first, second = Spool(tmp_path), Spool(tmp_path)
    [claimed] = first.claim_orphans()
    assert read_entries(claimed.read()) == ([entry(request_id="a")], 0)
    assert list(second.claim_orphans()) == []  # locked by the first claimant
    claimed.release()
    assert segment_files(tmp_path) == []


def test_spool_ownership_is_the_lock_not_the_pid(tmp_path):
    """A dead worker's pid reused by a live process (here: this one) does not protect it."""
    orphan = tmp_path / f"{os.getpid()}-0000000000000000.spool"
    orphan.write_bytes(encode(entry(request_id="orphan")))
    [claimed] = Spool(tmp_path).claim_orphans()
    assert claimed.path == orphan
    claimed.release()


def test_spool_removes_a_stale_half_created_segment_only(tmp_path):
    fresh = tmp_path / "1-a.creating"
    stale = tmp_path / "2-b.creating"
    fresh.touch()
    stale.touch()
    old = time.time() - spooling.STALE_CREATING_SECONDS - 1
    os.utime(stale, (old, old))
    assert list(Spool(tmp_path).claim_orphans()) == []
    assert segment_files(tmp_path) == ["1-a.creating"]


def test_spool_forked_child_forgets_the_segment_without_unlocking_it(tmp_path):
    worker = Spool(tmp_path)
    worker.append(encode(entry()))
    pid = os.fork()
    if pid == 0:  # the child: drop its copy of the descriptor, as after_fork_in_child does
        worker.forget()
        os._exit(0)
    os.waitpid(pid, 0)
    assert list(Spool(tmp_path).claim_orphans()) == []  # the parent still holds it


# --- the buffer with a spool ---------------------------------------------------------------------


def spooled_buffer(directory: Path, **options: Any) -> ActivityBuffer:
    return ActivityBuffer(background=False, spool_directory=directory, **options)


def test_spool_holds_an_entry_when_record_returns(db, tmp_path):
    buffer = spooled_buffer(tmp_path)
    buffer.record(entry(request_id="one"))
    buffer.record(entry(request_id="two"))
    [segment] = tmp_path.iterdir()
    assert read_entries(segment.read_bytes()) == (
        [entry(request_id="one"), entry(request_id="two")],
        0,
    )


def test_spool_segment_goes_once_its_entries_are_committed(
    db, acme, tmp_path, django_capture_on_commit_callbacks
):
    buffer = spooled_buffer(tmp_path)
    buffer.record(entry(request_id="one"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert buffer.flush() == 1
    assert len(list(tmp_path.iterdir())) == 1  # not committed yet: still there
    for callback in callbacks:
        callback()
    assert list(tmp_path.iterdir()) == []


def test_spool_keeps_entries_of_an_outage_in_the_next_segment(
    db, acme, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    buffer = spooled_buffer(tmp_path)
    buffer.record(entry(request_id="during-outage"))

    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("connection refused")

    with monkeypatch.context() as patched, django_capture_on_commit_callbacks(execute=True):
        patched.setattr("tokens.activity.buffer.copy_rows", unreachable)
        assert buffer.flush() == 0
    [segment] = tmp_path.iterdir()
    assert buffer.spool is not None and buffer.spool.live is not None
    assert segment == buffer.spool.live.path  # the old segment went, the entry is in the new
    assert read_entries(segment.read_bytes()) == ([entry(request_id="during-outage")], 0)


def test_spool_recovery_writes_a_dead_workers_entries_once(
    db, acme, tmp_path, django_capture_on_commit_callbacks
):
    """The dead worker committed "a" and died before unlinking; its last write was cut short."""
    now = datetime.now(UTC)
    dead = spooled_buffer(tmp_path)
    for name in ("a", "b", "c"):
        dead.record(entry(request_id=name, occurred_at=now))
    dead.record(entry(request_id="a", occurred_at=now + timedelta(seconds=1)))  # a reused id
    with tenant_context(acme):
        committed = asdict(entry(request_id="a", occurred_at=now))
        del committed["schema_name"]
        ApiRequestLog.objects.create(**committed)
    assert dead.spool is not None and dead.spool.live is not None
    os.write(dead.spool.live.fd, encode(entry(request_id="d"))[:-7])
    dead.spool.live.close()  # killed

    survivor = spooled_buffer(tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        assert survivor.recover() == 3
        assert survivor.recover() == 0
    assert (survivor.recovered, survivor.unreadable) == (3, 1)
    assert list(tmp_path.iterdir()) == []
    with tenant_context(acme):
        rows = sorted(ApiRequestLog.objects.values_list("request_id", "occurred_at"))
    assert rows == [("a", now), ("a", now + timedelta(seconds=1)), ("b", now), ("c", now)]


def test_spool_recovery_waits_out_an_outage(db, acme, tmp_path, monkeypatch):
    dead = spooled_buffer(tmp_path)
    dead.record(entry(request_id="a", occurred_at=datetime.now(UTC)))
    assert dead.spool is not None and dead.spool.live is not None
    dead.spool.live.close()

    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("connection refused")

    survivor = spooled_buffer(tmp_path)
    with monkeypatch.context() as patched:
        patched.setattr("tokens.activity.buffer.copy_rows", unreachable)
        assert survivor.recover() == 0
    assert len(list(tmp_path.iterdir())) == 1  # left for the next attempt, unlocked
    assert survivor.recover() == 1


def test_spool_recovery_never_takes_its_own_live_segment(db, acme, tmp_path):
    buffer = spooled_buffer(tmp_path)
    buffer.record(entry(request_id="mine"))
    assert buffer.recover() == 0
    assert buffer.pending == 1


def test_spool_recovery_removes_an_empty_orphan_quietly(
    db, tmp_path, caplog, django_capture_on_commit_callbacks
):
    Spool(tmp_path).new_segment().close()  # created, then its owner died before writing
    survivor = spooled_buffer(tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        assert survivor.recover() == 0
    assert list(tmp_path.iterdir()) == []
    assert "recovered" not in caplog.text


def test_spool_that_cannot_be_written_keeps_entries_in_memory_and_logs_once(tmp_path, caplog):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    buffer = spooled_buffer(blocked / "spool")
    buffer.record(entry(request_id="one"))
    buffer.record(entry(request_id="two"))
    assert buffer.pending == 2
    assert buffer.spool_failures == 2
    assert caplog.text.count("cannot write the spool") == 1


def test_spool_entry_with_a_naive_time_stays_in_memory_and_is_counted(tmp_path):
    buffer = spooled_buffer(tmp_path)
    buffer.record(entry(occurred_at=datetime(2025, 1, 1, 10, 0)))  # no time zone
    assert (buffer.pending, buffer.spool_failures) == (1, 1)
