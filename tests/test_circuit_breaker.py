"""The circuit breaker on its own (pure, a moved clock): unit tests and a property test."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from waqti.circuit_breaker import CircuitBreaker, CircuitOpen, Transition

RETRY = 2.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(retry_after=RETRY, clock=clock)


def test_closed_admits_every_call_and_nothing_changes_on_success(breaker):
    for _ in range(3):
        probe = breaker.before()
        assert probe is False
        assert breaker.succeeded(probe) is Transition.NONE
    assert not breaker.is_open


def test_a_failure_opens_it_and_calls_are_refused_until_the_retry_time(breaker, clock):
    assert breaker.failed(breaker.before()) is Transition.OPENED
    assert breaker.is_open and breaker.opened_at == clock.now
    clock.now += RETRY - 0.001
    with pytest.raises(CircuitOpen):
        breaker.before()


def test_after_the_retry_time_exactly_one_call_probes_and_its_success_closes_it(breaker, clock):
    breaker.failed(breaker.before())
    clock.now += RETRY
    probe = breaker.before()
    assert probe is True
    for _ in range(3):  # while the probe is out, everyone else still skips
        with pytest.raises(CircuitOpen):
            breaker.before()
    assert breaker.succeeded(probe) is Transition.CLOSED
    assert not breaker.is_open and breaker.opened_at is None
    assert breaker.before() is False


def test_a_failed_probe_keeps_it_open_for_another_retry_time_without_a_new_transition(
    breaker, clock
):
    breaker.failed(breaker.before())
    clock.now += RETRY + 5
    assert breaker.failed(breaker.before()) is Transition.NONE  # still the same outage
    clock.now += RETRY - 0.001
    with pytest.raises(CircuitOpen):
        breaker.before()
    clock.now += 0.001
    assert breaker.before() is True


def test_an_abandoned_probe_hands_the_probe_to_the_next_caller(breaker, clock):
    breaker.failed(breaker.before())
    clock.now += RETRY
    breaker.abandoned(breaker.before())
    assert breaker.is_open
    assert breaker.before() is True


def test_a_call_in_flight_when_it_opened_closes_it_with_its_answer(breaker):
    slow = breaker.before()  # admitted while closed
    breaker.failed(breaker.before())
    assert breaker.succeeded(slow) is Transition.CLOSED


def test_reset_closes_it_and_forgets_the_probe(breaker, clock):
    breaker.failed(breaker.before())
    clock.now += RETRY
    breaker.before()
    breaker.reset()
    assert not breaker.is_open
    assert breaker.before() is False


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.floats(min_value=0, max_value=3 * RETRY)),
        st.tuples(st.just("call"), st.none()),
        st.tuples(
            st.sampled_from(["succeed", "fail", "abandon"]), st.integers(min_value=0, max_value=5)
        ),
    ),
    max_size=60,
)


@given(OPERATIONS)
def test_any_interleaving_keeps_the_breakers_promises(operations):
    """Calls start, end (answer, failure, neither) and time passes in any order; then:
    a call is refused only within RETRY of the last failure or while a probe is out; once open,
    at most one call is out as a probe, and only after RETRY; after RETRY with no probe out, a
    call is always admitted; the log transitions alternate OPENED, CLOSED, OPENED, ..."""
    clock = Clock()
    breaker = CircuitBreaker(retry_after=RETRY, clock=clock)
    in_flight: list[bool] = []  # the admitted calls' probe flags
    last_failure: float | None = None  # while open: when the last failure was reported
    transitions: list[Transition] = []
    for operation, value in operations:
        if operation == "wait":
            clock.now += value
        elif operation == "call":
            probe_out = any(in_flight)
            try:
                probe = breaker.before()
            except CircuitOpen:
                assert last_failure is not None
                assert probe_out or clock.now < last_failure + RETRY
                continue
            if last_failure is None:
                assert probe is False
            else:
                assert probe is True
                assert not probe_out and clock.now >= last_failure + RETRY
            in_flight.append(probe)
        elif in_flight:
            probe = in_flight.pop(value % len(in_flight))
            if operation == "succeed":
                transitions.append(breaker.succeeded(probe))
                last_failure = None
            elif operation == "fail":
                transitions.append(breaker.failed(probe))
                last_failure = clock.now
            else:
                breaker.abandoned(probe)
        assert breaker.is_open == (last_failure is not None)
        assert sum(in_flight) <= 1
    changes = [t for t in transitions if t is not Transition.NONE]
    assert changes == [Transition.OPENED, Transition.CLOSED] * (len(changes) // 2) + [
        Transition.OPENED
    ] * (len(changes) % 2)
