"""A circuit breaker: after a failure, skip the service for a while, then let one call probe it.

States, for one process and one service (``waqti.redis_cache`` holds the Redis one):

* **closed**: every call goes through. A failure opens the breaker.
* **open**: calls are refused at once (``CircuitOpen``) until ``retry_after`` seconds have
  passed since the last failure; then exactly one call is let through as the probe, while every
  other call is still refused. The probe's success closes the breaker, its failure keeps it open
  for another ``retry_after``. A probe that ends neither way (an exception that says nothing
  about the service) gives the probe to the next caller.

A success of any call closes the breaker (the service answered), and a failure of any call
(re)opens it, so a call that was already in flight when the breaker opened still counts.

Pure and small, in the style of ``tokens.secrets``: no I/O, the clock is injected
(``clock``: monotonic seconds), the transitions return what changed (``Transition``) so the
caller logs one line per change, and the tests move time rather than sleep
(``tests/test_circuit_breaker.py``: unit and property tests). The closed state's cost is one
attribute read before and one after the call, no lock.

Why our own and not pybreaker, the well-kept library for this (read in its current
``src/pybreaker/__init__.py``): ``CircuitBreaker.call`` holds the breaker's lock for the whole
guarded call (that is how its half-open state lets only one call through), so in a threaded
process every Redis call would wait for the one in flight, and a frozen Redis would stall every
thread one timeout after the other; it times the open state with ``datetime.now(UTC)`` (a wall
clock step stretches or shortens it) and cannot take an injected clock, so its users' tests must
sleep; every successful call resets a counter in its storage and loops over its listeners. What
we need (one probe while the other calls fail fast, with the lock held only for a transition) is
the class below.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable


class CircuitOpen(Exception):
    """The breaker is open: the call was not attempted."""


class Transition(enum.Enum):
    """What a call's outcome changed, for the caller to report."""

    NONE = "none"
    OPENED = "opened"  # was closed
    CLOSED = "closed"  # was open


class CircuitBreaker:
    """One breaker; thread-safe. ``before()`` then ``succeeded``/``failed``/``abandoned``."""

    def __init__(self, retry_after: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.retry_after = retry_after
        self.clock = clock
        self._lock = threading.Lock()
        # None while closed; else the clock reading from which a probe may go through.
        self._probe_at: float | None = None
        self._probing = False
        self.opened_at: float | None = None  # clock reading of the failure that opened it

    @property
    def is_open(self) -> bool:
        return self._probe_at is not None

    def before(self) -> bool:
        """Admit a call, or raise ``CircuitOpen``; True when the admitted call is the probe."""
        if self._probe_at is None:
            return False
        with self._lock:
            if self._probe_at is None:
                return False
            if self._probing or self.clock() < self._probe_at:
                raise CircuitOpen
            self._probing = True
            return True

    def succeeded(self, probe: bool) -> Transition:
        """The admitted call got an answer from the service."""
        if self._probe_at is None:
            return Transition.NONE
        with self._lock:
            if probe:
                self._probing = False
            if self._probe_at is None:
                return Transition.NONE
            self._probe_at = None
            self.opened_at = None
            return Transition.CLOSED

    def failed(self, probe: bool) -> Transition:
        """The admitted call found the service unreachable (or too slow)."""
        with self._lock:
            if probe:
                self._probing = False
            now = self.clock()
            was_closed = self._probe_at is None
            self._probe_at = now + self.retry_after
            if was_closed:
                self.opened_at = now
                return Transition.OPENED
            return Transition.NONE

    def abandoned(self, probe: bool) -> None:
        """The admitted call ended in a way that says nothing about the service."""
        if probe:
            with self._lock:
                self._probing = False

    def reset(self) -> None:
        """Close without a call (tests; a new configuration)."""
        with self._lock:
            self._probe_at = None
            self._probing = False
            self.opened_at = None
