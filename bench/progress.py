"""Progress lines of a bench run, stamped with the seconds since it started."""

from __future__ import annotations

import time

STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - STARTED:6.1f}s] {message}", flush=True)
