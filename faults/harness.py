"""What a fault scenario builds on, in one place: ``from faults.harness import Stack, load``."""

from __future__ import annotations

from faults.load import NO_ANSWER, LoadResult, Sample, in_background, load
from faults.report import Row, table
from faults.servers import PrivatePostgres, PrivateRedis, ServerStartError, free_port
from faults.stack import Stack

__all__ = [
    "NO_ANSWER",
    "LoadResult",
    "PrivatePostgres",
    "PrivateRedis",
    "Row",
    "Sample",
    "ServerStartError",
    "Stack",
    "free_port",
    "in_background",
    "load",
    "table",
]
