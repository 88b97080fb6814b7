"""`make bench` rewrites only BENCHMARKS.md's results block, keeping the last two runs."""

from __future__ import annotations

import json
from typing import Any

from bench import report
from tests.live_server import ROOT


def a_result(finished_at: str, previous: dict[str, Any]) -> dict[str, Any]:
    """A run as bench.run builds it, with the figures of a run already in BENCHMARKS.md."""
    return {
        **previous,
        "finished_at": finished_at,
        "command": "make bench",
        "wall_seconds": 270.0,
        "repeats_count": 3,
        "duration": 6.0,
        "warmup": 2.0,
        "threads": 2,
        "connections": 8,
        "workers": 2,
        "database_note": "PostgreSQL from DATABASE_URL (127.0.0.1), database waqti_bench",
        "cache_note": "Redis at redis://127.0.0.1:6379/6",
        "po_note": "",
        "machine": {"nproc": 2},
        "versions": {"Python": "3.11"},
    }


def test_a_run_replaces_the_oldest_and_leaves_the_rest_of_the_file(tmp_path, monkeypatch):
    original = (ROOT / "BENCHMARKS.md").read_text()
    runs = [json.loads(m.group(1)) for m in report.DATA_RE.finditer(original)]
    assert len(runs) == report.KEEP_RUNS
    target = tmp_path / "BENCHMARKS.md"
    target.write_text(original)
    monkeypatch.setattr(report, "REPORT", target)

    report.write_report(a_result("2030-01-01 00:00 UTC", runs[0]))

    written = target.read_text()
    head, rest = original.split(report.RESULTS_START)
    tail = rest.split(report.RESULTS_END)[1]
    assert written.startswith(head + report.RESULTS_START)
    assert written.endswith(report.RESULTS_END + tail)
    kept = [json.loads(m.group(1))["finished_at"] for m in report.DATA_RE.finditer(written)]
    assert kept == ["2030-01-01 00:00 UTC", runs[0]["finished_at"]]
    assert written.count(report.RUN_MARK) == report.KEEP_RUNS
    assert f"| scenario | target | 2030-01-01 00:00 UTC | {runs[0]['finished_at']} |" in written
