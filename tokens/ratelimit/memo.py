"""Per-worker memo of rate-limit windows known to be spent, for 429s that cost no round trip.

A window this worker saw spent (counted up to its limit) is remembered until its reset, and the
early refusal (``tokens.early_refusal``) refuses requests into it before DRF runs; they are not
counted:

* the per-IP guard's window, keyed by (schema, ``tokens.ratelimit.guard.memo_key(ip)``): only
  tokens known invalid (malformed, or ``tokens.lookup.known_invalid``); a token that may be
  valid takes the normal path;
* the tenant's plan window, keyed by (schema, ``tokens.ratelimit.plans.PLAN_KEY``): tokens whose
  young cached snapshot accepts the secret, without Redis or PostgreSQL. Accepted consequence:
  a token revoked in ANOTHER process gets 429 instead of 401 until the window resets or its
  snapshot ages out (it is refused either way, and ``token_touch`` never moves a revoked token's
  ``last_used_at``). A revoke in this process gives 401 at once (``invalidate_tenant`` drops
  local snapshots).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from tokens.ratelimit.counter import WindowUsage


@dataclass(frozen=True, slots=True)
class ExhaustedWindow:
    """A window known to be spent until ``reset_at``, with what its 429 has to say."""

    limit: int
    reset_at: int  # Unix seconds
    label: str = ""  # the plan window's name ("minute", "day"); "" for the per-IP guard
    plan: str = ""  # the plan it was counted under; a plan change makes it irrelevant

    def usage(self) -> WindowUsage:
        """The usage the counting path would report for one more request now."""
        return WindowUsage(
            limit=self.limit,
            count=self.limit + 1,
            reset_at=self.reset_at,
            counted_at=int(time.time()),
        )


class ExhaustedWindows:
    """Per-worker memo of spent windows keyed by (schema, key); bounded, entries expire at reset.

    ``time.time`` is looked up on every call, so tests that move the clock move the memo too.
    """

    max_entries = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], ExhaustedWindow] = {}

    def __bool__(self) -> bool:
        return bool(self._windows)

    def note(self, schema: str, key: str, window: ExhaustedWindow) -> None:
        with self._lock:
            if len(self._windows) >= self.max_entries:
                now = time.time()
                for stale in [k for k, w in self._windows.items() if now >= w.reset_at]:
                    del self._windows[stale]
                while len(self._windows) >= self.max_entries:  # still full: drop the oldest
                    del self._windows[next(iter(self._windows))]
            self._windows[(schema, key)] = window

    def get(self, schema: str, key: str) -> ExhaustedWindow | None:
        window = self._windows.get((schema, key))
        if window is not None and time.time() >= window.reset_at:
            with self._lock:
                if self._windows.get((schema, key)) is window:
                    del self._windows[(schema, key)]
            return None
        return window

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()


exhausted = ExhaustedWindows()
