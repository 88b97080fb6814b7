"""PostgreSQL stopped under load (faults/scenarios/postgres_stopped.py): the exact 503 and never a
500, a cached /me served throughout, one start and one end line per worker, no traceback, every
request in the activity log afterwards; and the row's arithmetic on known runs."""

from __future__ import annotations

import pytest

from faults.load import NO_ANSWER, LoadResult, Sample
from faults.scenarios import postgres_stopped
from faults.scenarios.postgres_stopped import EXACT_503, Activity


@pytest.mark.slow
def test_postgres_stopped_is_503_for_what_needs_it_and_200_for_a_cached_me() -> None:
    row = postgres_stopped.run(quick=True)  # about 45 s on a busy 2-core machine
    assert row.ok, row.measured
    assert " 0 x 500," in row.measured, row.measured
    assert "/me 100.0% 200 during the outage" in row.measured, row.measured
    assert "0 tracebacks, 0 per-request error lines" in row.measured, row.measured


START = "2026-12-01 10:00:00,000 ERROR waqti.database database unavailable in pid {} (x); ..."
END = "2026-12-01 10:00:04,000 WARNING waqti.database database available again in pid {} after"


def _results(*orders: Sample) -> tuple[LoadResult, LoadResult]:
    me = LoadResult(started=0.0, finished=10.0, samples=[Sample(6.0, 0.01, 200, True)])
    return me, LoadResult(started=0.0, finished=10.0, samples=list(orders))


EXACT = Sample(6.0, 0.01, 503, True, label=EXACT_503)
LOG = "\n".join([START.format(11), START.format(12), END.format(12), END.format(11)])
ACTIVITY = Activity(written=2, written_503=1, answered=2, answered_503=1)


def test_row_is_met_by_exact_503s_and_one_start_and_end_line_per_worker() -> None:
    row = postgres_stopped.measure(*_results(EXACT), 5.0, 9.0, LOG, ACTIVITY)
    assert row.ok, row.measured
    assert "pid 11: 1 start + 1 end, pid 12: 1 start + 1 end" in row.measured


@pytest.mark.parametrize(
    ("orders", "log", "activity"),
    [
        # a 500
        ((EXACT, Sample(6.0, 0.01, 500, True)), LOG, ACTIVITY),
        # a 503 with another body or without Retry-After
        ((EXACT, Sample(6.0, 0.01, 503, True, label="other 503")), LOG, ACTIVITY),
        # no answer at all
        ((EXACT, Sample(6.0, 0.01, NO_ANSWER, False)), LOG, ACTIVITY),
        # still failing 3 s after PostgreSQL was back
        ((EXACT, Sample(12.0, 0.01, 503, True, label=EXACT_503)), LOG, ACTIVITY),
        # a worker logged its start twice, or never its end
        ((EXACT,), LOG + "\n" + START.format(11), ACTIVITY),
        ((EXACT,), START.format(11), ACTIVITY),
        # a traceback, or Django's per-request line
        ((EXACT,), LOG + "\nTraceback (most recent call last):", ACTIVITY),
        ((EXACT,), LOG + "\n2026 ERROR django.request Service Unavailable: /x", ACTIVITY),
        # activity entries of the outage lost
        ((EXACT,), LOG, Activity(written=1, written_503=0, answered=2, answered_503=1)),
    ],
    ids=[
        "500",
        "inexact 503",
        "no answer",
        "slow recovery",
        "two starts",
        "no end",
        "traceback",
        "request line",
        "entries lost",
    ],
)
def test_row_is_not_met(orders, log, activity) -> None:
    row = postgres_stopped.measure(*_results(*orders), 5.0, 9.0, log, activity)
    assert not row.ok, row.measured


def test_row_is_not_met_when_a_cached_me_fails_during_the_outage() -> None:
    me, orders = _results(EXACT)
    me.samples.append(Sample(7.0, 0.01, 503, True, label=EXACT_503))
    row = postgres_stopped.measure(me, orders, 5.0, 9.0, LOG, ACTIVITY)
    assert not row.ok
    assert "/me 50.0% 200 during the outage" in row.measured
