"""Driving the load: wrk runs of a scenario, the floor sandwich around it, and the memory run."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from typing import Any

from bench.config import LOAD_SCRIPT, SCENARIOS, Scenario
from bench.preparation import Setup
from bench.progress import log
from bench.servers import workers_of


def run_wrk(
    args: argparse.Namespace, setup: Setup, scenario: Scenario, port: int, duration: float
) -> dict[str, Any]:
    token = setup.tokens.get(scenario.token_key or "", "")
    env = dict(
        os.environ,
        BENCH_HOST=scenario.host,
        BENCH_AUTH=token,
        BENCH_METHOD=scenario.method,
        BENCH_BODY_FILE=setup.body_file if scenario.body else "",
    )
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(LOAD_SCRIPT),
        f"http://127.0.0.1:{port}{scenario.path}",
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line[len("BENCH_JSON ") :])
            data["statuses"] = {int(k): v for k, v in data["statuses"].items()}
            data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
            socket_errors = sum(
                data[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
            )
            unexpected = sum(
                n
                for status, n in data["statuses"].items()
                if status not in scenario.expected | scenario.tolerated
            )
            data["errors"] = socket_errors + unexpected
            data["tolerated"] = sum(
                n for status, n in data["statuses"].items() if status in scenario.tolerated
            )
            return data
    raise SystemExit(f"wrk gave no result for {scenario.key}:\n{result.stdout}\n{result.stderr}")


def measure(
    args: argparse.Namespace,
    setup: Setup,
    scenario: Scenario,
    port: int,
    duration: float,
    warmup: float = 0,
) -> dict[str, Any]:
    if warmup:
        run_wrk(args, setup, scenario, port, warmup)  # also exhausts limits where relevant
    data = run_wrk(args, setup, scenario, port, duration)
    log(
        f"  {scenario.key:14s} {data['rps']:8.0f} req/s  p50 {data['p50_us'] / 1000:6.2f} ms  "
        f"p99 {data['p99_us'] / 1000:6.2f} ms  errors {data['errors']}  statuses {data['statuses']}"
    )
    return data


def measure_against_floor(
    args: argparse.Namespace,
    setup: Setup,
    scenario: Scenario,
    floor: Scenario,
    floors: list[dict[str, Any]],
) -> dict[str, Any]:
    """Floor, scenario, floor: the ratio compares slices taken under the same machine noise."""
    half = max(1.0, args.duration / 2)
    before = measure(args, setup, floor, args.floor_port, half)
    data = measure(args, setup, scenario, args.app_port, args.duration, args.warmup)
    after = measure(args, setup, floor, args.floor_port, half)
    floors += [before, after]
    data["floor_rps"] = (before["rps"] + after["rps"]) / 2
    log(f"  {scenario.key:14s} ratio to floor {data['rps'] / data['floor_rps']:.3f}")
    return data


def memory_test(
    args: argparse.Namespace, setup: Setup, app: subprocess.Popen[bytes], port: int
) -> dict[str, Any]:
    me = next(s for s in SCENARIOS if s.key == "me")
    run_wrk(args, setup, me, port, max(2.0, args.warmup))
    workers = workers_of(app)
    before = {w.pid: w.memory_info().rss for w in workers}
    total = 0
    started = time.monotonic()
    while total < args.memory_requests:
        remaining = args.memory_requests - total
        data = run_wrk(args, setup, me, port, min(20, max(2, remaining / 1500)))
        total += data["requests"]
        if data["errors"]:
            log(f"  memory run: {data['errors']} errors, statuses {data['statuses']}")
    after = {w.pid: w.memory_info().rss for w in workers_of(app)}
    growth = {pid: (after.get(pid, 0) - rss) / rss * 100 for pid, rss in before.items()}
    result = {
        "requests": total,
        "seconds": time.monotonic() - started,
        "workers": [
            {
                "pid": pid,
                "rss_before_mb": before[pid] / 2**20,
                "rss_after_mb": after.get(pid, 0) / 2**20,
                "growth_pct": growth[pid],
            }
            for pid in before
        ],
        "max_growth_pct": max(growth.values()),
        "same_workers": set(before) == set(after),
    }
    log(
        f"  memory: {total} requests, RSS growth per worker "
        + ", ".join(
            f"{w['rss_before_mb']:.1f}->{w['rss_after_mb']:.1f} MB ({w['growth_pct']:+.1f}%)"
            for w in result["workers"]
        )
    )
    return result
