"""The result of a fault scenario and the table `make faults` prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Row:
    """One line of the faults table: which fault under which load, what was measured (the
    figures), the requirement it is held to, and whether it was met."""

    fault: str
    measured: str
    requirement: str
    ok: bool


def table(rows: Sequence[Row]) -> str:
    """A Markdown table, as in the issue and the README."""
    lines = ["| fault | measured | requirement | ok |", "|---|---|---|---|"]
    lines += [
        f"| {r.fault} | {r.measured} | {r.requirement} | {'yes' if r.ok else 'NO'} |" for r in rows
    ]
    return "\n".join(lines)
