"""`make bench`: the API under gunicorn with production settings, side by side with the floor.

One invocation: recreate a throwaway database (``waqti_bench``), migrate, create the bench
tenants and tokens through the project's CLI, seed 1,000 purchase orders through the services,
serve the API and the floor (``bench/floor.py``) with the same gunicorn configuration, drive each
scenario with wrk on loopback (``bench/load.lua``), count statements and Redis round trips per
request in-process (``bench/queries.py``), watch a worker's RSS over 100,000 requests, and
write the results into BENCHMARKS.md (the last two invocations are kept).

This module is the command line and the order of a run; the parts live beside it:
``config`` (paths, tenants, scenarios, targets), ``preparation`` (database, tenants, tokens,
seeding), ``servers`` (manage.py, gunicorn), ``load`` (wrk, the floor sandwich, the memory run),
``machine`` (machine facts and versions) and ``report`` (medians, verdicts, BENCHMARKS.md).

Options: ``python -m bench.run --help``. Environment: DATABASE_URL (its server is used, with a
database named waqti_bench; unset: the embedded PostgreSQL), REDIS_URL (unset: process-local
cache, stated in the output and the report).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench.config import ARTIFACTS, LIMITED, MAIN, REPORT, ROOT, SCENARIOS, WRITES
from bench.load import measure_against_floor, memory_test
from bench.machine import machine, versions
from bench.preparation import build, clear_bench_keys
from bench.progress import STARTED, log
from bench.report import summarize, verdicts, write_report
from bench.servers import gunicorn, http_get, python_module, wait_ready, workers_of


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the API against the Django floor.")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of every scenario")
    parser.add_argument(
        "--duration",
        type=float,
        default=6,
        help="seconds measured per scenario (and as long for the floor: half before, half after)",
    )
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds per scenario")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--memory-requests", type=int, default=100_000)
    parser.add_argument(
        "--app-port", type=int, default=int(os.environ.get("BENCH_APP_PORT", "8201"))
    )
    parser.add_argument(
        "--floor-port", type=int, default=int(os.environ.get("BENCH_FLOOR_PORT", "8202"))
    )
    parser.add_argument("--only", help="comma-separated scenario keys (floor always runs)")
    parser.add_argument("--no-report", action="store_true", help="do not touch BENCHMARKS.md")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    os.chdir(ROOT)
    setup = build(args)
    only = set(args.only.split(",")) if args.only else None
    scenarios = [
        s
        for s in SCENARIOS
        if not s.floor
        and (only is None or s.key in only)
        and (setup.po is not None or not s.needs_po)
    ]
    floor = SCENARIOS[0]
    result: dict[str, Any] = {
        "command": " ".join(
            [
                f"{name}={os.environ[name]}"
                for name in ("DATABASE_URL", "REDIS_URL")
                if os.environ.get(name)
            ]
            + (["make bench"] if len(sys.argv) == 1 else ["python -m bench.run", *sys.argv[1:]])
        ),
        "repeats_count": args.repeats,
        "duration": args.duration,
        "warmup": args.warmup,
        "threads": args.threads,
        "connections": args.connections,
        "workers": args.workers,
        "database_note": setup.database_note,
        "cache_note": (
            f"Redis at {setup.redis_url}"
            if setup.redis_url
            else "NO Redis (REDIS_URL unset): process-local LocMemCache, per-worker counters, "
            "token snapshot cache off"
        ),
        "po_note": setup.po_note,
        "machine": machine(),
        "versions": versions(setup),
    }
    repeats: list[dict[str, Any]] = []
    with (
        gunicorn(
            setup.env, "bench.floor:application", args.floor_port, "floor", args.workers
        ) as floor_server,
        gunicorn(setup.env, "waqti.wsgi:application", args.app_port, "app", args.workers) as app,
    ):
        wait_ready(args.floor_port, "/floor", "localhost", floor_server, "floor")
        wait_ready(args.app_port, "/health", MAIN.host, app, "app")
        if setup.po is not None:
            status, _ = http_get(
                args.app_port, "/api/v1/purchase-orders?per_page=1", MAIN.host, setup.tokens["main"]
            )
            if status != 200:
                setup.po_note = f"GET /api/v1/purchase-orders answered {status}"
                result["po_note"] = setup.po_note
                scenarios = [s for s in scenarios if not s.needs_po]
        result["rss_at_start_mb"] = [w.memory_info().rss / 2**20 for w in workers_of(app)]
        for number in range(1, args.repeats + 1):
            log(f"repeat {number}/{args.repeats}")
            clear_bench_keys(setup.redis_url, setup.schemas)
            rep: dict[str, Any] = {}
            floors: list[dict[str, Any]] = []
            for scenario in scenarios:
                rep[scenario.key] = measure_against_floor(args, setup, scenario, floor, floors)
            rep["floor"] = {
                "rps": statistics.mean(f["rps"] for f in floors),
                "p50_us": statistics.median(f["p50_us"] for f in floors),
                "p99_us": statistics.median(f["p99_us"] for f in floors),
                "errors": sum(f["errors"] for f in floors),
                "tolerated": 0,
                "requests": sum(f["requests"] for f in floors),
                "floor_rps": statistics.mean(f["rps"] for f in floors),
            }
            repeats.append(rep)
        clear_bench_keys(setup.redis_url, setup.schemas)
        probe = {
            "host": MAIN.host,
            "token": setup.tokens["main"],
            "invalid_token": setup.tokens["invalid"],
            "limited_host": LIMITED.host,
            "limited_token": setup.tokens["limited"],
            "po": setup.po is not None and any(s.needs_po for s in scenarios),
            "writes_host": WRITES.host,
            "writes_token": setup.tokens["writes"],
            "po_body": (setup.po or {}).get("body"),
        }
        log("counting statements and Redis round trips per request")
        counted = python_module(setup.env, "bench.queries", json.dumps(probe))
        if counted.returncode == 0:
            result["queries"] = json.loads(counted.stdout.strip().splitlines()[-1])
            for key, value in result["queries"].items():
                if key != "invalid_token" or not value["sql"]:  # keep only what needs a look
                    value.pop("statements", None)
                log(
                    f"  {key}: status {value.get('status')}, "
                    f"{value['sql']} SQL, {value['redis']} Redis"
                )
        else:
            log(f"query count failed:\n{counted.stderr[-3000:]}")
        clear_bench_keys(setup.redis_url, setup.schemas)
        if args.memory_requests:
            log(
                f"memory: RSS of each app worker before and after {args.memory_requests:,} requests"
            )
            result["memory"] = memory_test(args, setup, app, args.app_port)
    result["repeats"] = repeats
    result["summary"] = summarize(repeats)
    result["finished_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    result["wall_seconds"] = time.monotonic() - STARTED
    (ARTIFACTS / f"run-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json").write_text(
        json.dumps(result, indent=1, default=str)
    )
    for key, (met, text) in verdicts(result).items():
        log(
            f"target {key}: "
            f"{'not measured' if met is None else ('met' if met else 'NOT MET')}: {text}"
        )
    if not args.no_report:
        write_report(result)
        log(f"wrote {REPORT.relative_to(ROOT)}")
    log(f"done in {result['wall_seconds']:.0f} s")


if __name__ == "__main__":
    main()
