"""PostgreSQL restarted under load: the API recovers within 2 s of the server being back and no
request hangs (faults/scenarios/postgres_restarted.py); and the row's arithmetic on known runs."""

from __future__ import annotations

import pytest

from faults.load import NO_ANSWER, LoadResult, Sample
from faults.scenarios import postgres_restarted


@pytest.mark.slow
def test_api_answers_normally_within_two_seconds_of_a_postgres_restart() -> None:
    row = postgres_restarted.run(quick=True)
    assert row.ok, row.measured
    assert " 0 answers without a JSON body" in row.measured, row.measured


def _run(*samples: Sample) -> list[LoadResult]:
    me = LoadResult(started=0.0, finished=10.0, samples=list(samples))
    return [me, LoadResult(started=0.0, finished=10.0, samples=[Sample(9.0, 0.01, 200, True)])]


def test_row_is_met_when_failures_stop_with_the_restart() -> None:
    row = postgres_restarted.measure(
        _run(Sample(4.0, 0.01, 200, True), Sample(5.1, 0.2, 500, True)), down=5.0, back=5.5
    )
    assert row.ok
    assert "non-200 by status {500: 1}" in row.measured
    assert "failures went on 0.00 s after PostgreSQL was back" in row.measured


def test_row_is_not_met_when_failures_go_on_after_the_restart() -> None:
    row = postgres_restarted.measure(_run(Sample(8.0, 0.01, 500, True)), down=5.0, back=5.5)
    assert not row.ok
    assert "failures went on 2.50 s after PostgreSQL was back" in row.measured


def test_row_is_not_met_when_a_request_hangs() -> None:
    row = postgres_restarted.measure(_run(Sample(5.2, 12.0, NO_ANSWER, False)), down=5.0, back=5.5)
    assert not row.ok
    assert "slowest request 12.00 s" in row.measured
