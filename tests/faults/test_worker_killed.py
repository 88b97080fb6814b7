"""A worker killed with SIGKILL under load: no answered request's activity entry is lost or
doubled, and no valid-token request is answered 429 (faults/scenarios/worker_killed.py); and the
row's arithmetic on known runs."""

from __future__ import annotations

from collections import Counter

import pytest

from faults.scenarios import worker_killed
from faults.scenarios.worker_killed import Sent


@pytest.mark.slow
def test_killed_worker_loses_no_activity_entry_and_refuses_no_valid_token() -> None:
    row = worker_killed.run(quick=True)
    assert row.ok, row.measured
    assert " 0 activity entries lost, 0 logged twice, 0 answered 429" in row.measured


def _sent(**answers: int | None) -> Sent:
    return Sent(answers=dict(answers))


def test_row_counts_an_answered_request_missing_from_the_log_as_lost() -> None:
    row = worker_killed.measure(
        _sent(a=200, b=200, c=None), _sent(x=429), Counter({"a": 1}), recovered=0
    )
    assert not row.ok
    assert "2 valid requests answered, 1 activity entries lost" in row.measured
    assert "1 unanswered" in row.measured


def test_row_counts_doubles_and_429s() -> None:
    twice = worker_killed.measure(_sent(a=200), _sent(), Counter({"a": 2}), recovered=1)
    assert not twice.ok and "1 logged twice" in twice.measured
    refused = worker_killed.measure(_sent(a=429), _sent(), Counter({"a": 1}), recovered=0)
    assert not refused.ok and "1 answered 429" in refused.measured


def test_row_is_met_when_every_answer_is_logged_once() -> None:
    row = worker_killed.measure(
        _sent(a=200, b=200, c=None), _sent(x=401, y=429), Counter({"a": 1, "b": 1, "c": 1}), 2
    )
    assert row.ok, row.measured
    assert "2 entries recovered" in row.measured
