"""`make bench-tenants`: provisioning by cloning and deploys at 200 and 1,000 tenants.

One invocation, on a throwaway database ``waqti_tenants_bench`` (DATABASE_URL's server, or the
embedded PostgreSQL): migrate (public schema and template), create 200 tenants through
tenant_create (each copied from the template) and time each; at 200 tenants time `manage.py
migrate` with nothing to do (3 times), django-tenants' own `migrate_schemas
--executor=multiprocessing` with nothing to do (once, for comparison) and one real migration
(procurement 0003, a nullable column: bench/tenant_migrations/); create 800 more; at 1,000 time the
no-op migrate again and the next real migration (0004). Every migrate is a `manage.py` process,
timed from start to exit as an operator sees it. The results go into BENCHMARKS.md (section
"Tenants at scale", the last two runs kept).

Options: ``python -m bench.tenants --help``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse, urlunparse

from bench.config import REPORT, ROOT
from bench.machine import machine
from bench.progress import log

DATABASE = "waqti_tenants_bench"
START, END, RUN = (
    "<!-- bench-tenants:start -->",
    "<!-- bench-tenants:end -->",
    "<!-- bench-tenants:run -->",
)
KEEP_RUNS = 2
PROVISIONING_TARGET_MS = 150
NOOP_TARGET_S = 5.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Tenants at scale: cloning and deploys.")
    parser.add_argument("--tenants", type=int, default=1000, help="tenants at the end")
    parser.add_argument("--first", type=int, default=200, help="tenants at the first stop")
    parser.add_argument("--noop-repeats", type=int, default=3)
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip django-tenants' migrate_schemas"
    )
    parser.add_argument("--no-report", action="store_true", help="do not touch BENCHMARKS.md")
    return parser.parse_args()


def with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def prepare_database() -> tuple[str, str]:
    """Drop and recreate waqti_tenants_bench on DATABASE_URL's server (or the embedded one)."""
    import psycopg

    base = os.environ.get("DATABASE_URL", "")
    if base:
        note = f"PostgreSQL from DATABASE_URL ({urlparse(base).hostname}), database {DATABASE}"
    else:
        sys.path.insert(0, str(ROOT))
        from waqti.embedded_db import ensure_embedded_database

        base = ensure_embedded_database(ROOT / ".var" / "postgres")
        note = f"embedded PostgreSQL (DATABASE_URL unset), database {DATABASE}"
    with psycopg.connect(with_database(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return with_database(base, DATABASE), note


def environment(url: str, extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.tenants_settings",
        "WAQTI_EXTRA_TENANT_MIGRATIONS": extra,
        "DJANGO_DEBUG": "1",
    }


cpu_seconds: list[float] = []


def timed_manage(url: str, *args: str, extra: str = "") -> tuple[float, str]:
    """Seconds from start to exit of ``manage.py ARGS``, and its output; exits on failure.

    The CPU seconds of the process and its workers go to ``cpu_seconds[-1]``.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment(url, extra),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr}{result.stdout}")
    return seconds, result.stdout


def create_tenants(url: str, first: int, last: int, extra: str, processes: int = 1) -> list[dict]:
    """Each tenant_create from ``first`` to ``last`` (``ms``, ``cpu_ms``), ``processes`` at once.

    Measured stretches run in one process; filler stretches may run in several.
    """
    log(f"creating tenants {first + 1}-{last} by cloning the template ({processes} processes)")
    bounds = [first + (last - first) * i // processes for i in range(processes + 1)]
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.tenants_create", str(a), str(b)],
            cwd=ROOT,
            env=environment(url, extra),
            stdout=subprocess.PIPE,
            text=True,
        )
        for a, b in itertools.pairwise(bounds)
        if b > a
    ]
    entries = []
    for child in children:
        assert child.stdout is not None
        for line in child.stdout:
            entries.append(json.loads(line))
            if len(entries) % 100 == 0:
                recent = [e["ms"] for e in entries[-100:]]
                median = statistics.median(recent)
                log(f"  {len(entries)} created (last 100: median {median:.0f} ms)")
        if child.wait() != 0:
            raise SystemExit("creating tenants failed")
    if len(entries) != last - first:
        raise SystemExit("creating tenants failed")
    return entries


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def provisioning(entries: list[dict]) -> dict[str, Any]:
    times = [e["ms"] for e in entries]
    cpu = [e["cpu_ms"] for e in entries if e["cpu_ms"] is not None]
    return {
        "count": len(times),
        "median_ms": statistics.median(times),
        "p95_ms": percentile(times, 0.95),
        "max_ms": max(times),
        "cpu_median_ms": statistics.median(cpu) if cpu else None,
        "cpu_p95_ms": percentile(cpu, 0.95) if cpu else None,
    }


def noop_migrate(url: str, repeats: int, extra: str) -> dict[str, Any]:
    walls, checks, cpus = [], [], []
    for _ in range(repeats):
        seconds, out = timed_manage(url, "migrate", "--noinput", extra=extra)
        cpus.append(cpu_seconds[-1])
        match = re.search(r"No migrations to apply \(checked in ([0-9.]+) s\)", out)
        if not match:
            raise SystemExit(f"expected a no-op migrate, got:\n{out}")
        walls.append(seconds)
        checks.append(float(match.group(1)))
    log(
        f"  no-op migrate: {statistics.median(walls):.2f} s "
        f"(check itself {statistics.median(checks):.2f} s)"
    )
    return {
        "cpu_s": statistics.median(cpus),
        "wall_s": statistics.median(walls),
        "walls_s": walls,
        "check_s": statistics.median(checks),
    }


def real_migrate(url: str, extra: str, tenants: int) -> dict[str, Any]:
    seconds, out = timed_manage(url, "migrate", "--noinput", extra=extra)
    done = re.search(r"Done: (\d+) tenant schemas migrated", out)
    if not done or int(done.group(1)) != tenants:
        raise SystemExit(f"expected {tenants} tenants migrated, got:\n{out[-2000:]}")
    lines = [line for line in out.splitlines() if re.match(r"\[\d+/\d+\] ", line)]
    per_tenant = [float(re.search(r"\(([0-9.]+) s\)$", line).group(1)) for line in lines]  # type: ignore[union-attr]
    log(f"  real migration over {tenants} tenants: {seconds:.1f} s")
    return {
        "wall_s": seconds,
        "tenants": len(lines),
        "per_tenant_median_s": statistics.median(per_tenant),
        "processes": re.search(r"over (\d+) processes", out).group(1),  # type: ignore[union-attr]
    }


def load_average() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def main() -> None:
    args = parse_args()
    wall_started = time.perf_counter()
    url, note = prepare_database()
    log(f"database: {note}; load average {load_average()}")
    result: dict[str, Any] = {"database_note": note, "load_before": load_average()}

    seconds, _ = timed_manage(url, "migrate", "--noinput")
    result["first_migrate_s"] = seconds
    log(f"first migrate (public schema and template): {seconds:.1f} s")

    first = create_tenants(url, 0, args.first, "")
    result["provisioning_first"] = provisioning(first)
    log(f"at {args.first} tenants: no-op migrate x{args.noop_repeats}")
    result["noop_first"] = noop_migrate(url, args.noop_repeats, "")
    if not args.no_baseline:
        seconds, _ = timed_manage(
            url, "migrate_schemas", "--noinput", "--executor=multiprocessing", "-v", "0"
        )
        result["baseline_first_s"] = seconds
        log(f"  django-tenants migrate_schemas --executor=multiprocessing, no-op: {seconds:.1f} s")
    result["real_first"] = real_migrate(url, "one", args.first)

    window = min(100, args.tenants - args.first)
    filler = create_tenants(url, args.first, args.tenants - window, "one", processes=2)
    last = create_tenants(url, args.tenants - window, args.tenants, "one")
    result["provisioning_last"] = provisioning(last)
    result["provisioning_all"] = provisioning(first + filler + last)
    log(f"at {args.tenants} tenants: no-op migrate x{args.noop_repeats}")
    result["noop_last"] = noop_migrate(url, args.noop_repeats, "one")
    result["real_last"] = real_migrate(url, "two", args.tenants)

    result.update(
        first=args.first,
        tenants=args.tenants,
        load_after=load_average(),
        wall_seconds=time.perf_counter() - wall_started,
        finished_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine(),
    )
    text = render(result)
    print(text)
    if not args.no_report:
        write_report(text)
        log(f"BENCHMARKS.md updated ({result['wall_seconds'] / 60:.1f} min)")


def ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render(r: dict[str, Any]) -> str:
    first, last, n, m = r["provisioning_first"], r["provisioning_last"], r["first"], r["tenants"]
    baseline = (
        f"| django-tenants `migrate_schemas --executor=multiprocessing`, nothing to do | "
        f"{r['baseline_first_s']:.1f} s | not run | |\n"
        if "baseline_first_s" in r
        else ""
    )
    return (
        f"{RUN}\n### Run of {r['finished_at']}\n\n"
        f"`make bench-tenants` (`python -m bench.tenants`), {r['wall_seconds'] / 60:.1f} min; "
        f"{r['database_note']}; {r['machine'].get('nproc', '?')} cores, load average "
        f"{r['load_before']} before and {r['load_after']} after (other work on the machine).\n\n"
        f"| what | at {n} tenants | at {m} tenants | target |\n|---|---|---|---|\n"
        f"| provisioning (tenant_create, cloned), median | {first['median_ms']:.0f} ms "
        f"(tenants 1-{n}) | {last['median_ms']:.0f} ms (tenants {m - last['count'] + 1}-{m}) | "
        f"<= {PROVISIONING_TARGET_MS} ms with {n} present: "
        f"{verdict(first['median_ms'] <= PROVISIONING_TARGET_MS)} |\n"
        f"| provisioning, p95 | {first['p95_ms']:.0f} ms | {last['p95_ms']:.0f} ms | |\n"
        f"| provisioning CPU (Python + its PostgreSQL backend), median / p95 | "
        f"{ms(first['cpu_median_ms'])} / {ms(first['cpu_p95_ms'])} | "
        f"{ms(last['cpu_median_ms'])} / {ms(last['cpu_p95_ms'])} | |\n"
        f"| `manage.py migrate`, nothing to do (process start to exit, median of "
        f"{len(r['noop_first']['walls_s'])}) | {r['noop_first']['wall_s']:.2f} s | "
        f"{r['noop_last']['wall_s']:.2f} s | <= {NOOP_TARGET_S:.0f} s at {m}: "
        f"{verdict(r['noop_last']['wall_s'] <= NOOP_TARGET_S)} |\n"
        f"| of which the one-query check | {r['noop_first']['check_s']:.2f} s | "
        f"{r['noop_last']['check_s']:.2f} s | |\n"
        f"| its CPU time (user + system; start-up and system checks included) | "
        f"{r['noop_first']['cpu_s']:.2f} s | {r['noop_last']['cpu_s']:.2f} s | |\n"
        f"{baseline}"
        f"| one real migration (a nullable column), every tenant, "
        f"{r['real_first']['processes']} processes | {r['real_first']['wall_s']:.1f} s | "
        f"{r['real_last']['wall_s']:.1f} s | |\n"
        f"| of which per tenant (median, in its worker) | "
        f"{r['real_first']['per_tenant_median_s']:.2f} s | "
        f"{r['real_last']['per_tenant_median_s']:.2f} s | |\n\n"
        f"First `migrate` of the empty database (public schema and template): "
        f"{r['first_migrate_s']:.1f} s. Provisioning over all {m} tenants: median "
        f"{r['provisioning_all']['median_ms']:.0f} ms, "
        f"p95 {r['provisioning_all']['p95_ms']:.0f} ms, "
        f"max {r['provisioning_all']['max_ms']:.0f} ms.\n\n"
        f"<!-- bench-tenants:data {json.dumps(r, separators=(',', ':'))} -->\n"
    )


def write_report(run: str) -> None:
    """Put ``run`` first in BENCHMARKS.md's tenants section, keeping the previous run."""
    text = REPORT.read_text()
    if START in text and END in text:
        head, rest = text.split(START, 1)
        region, tail = rest.split(END, 1)
        intro, *runs = region.split(RUN)
    else:  # first run: the section goes above `make bench`'s results
        marker = "<!-- bench:results:start -->"
        if marker in text:
            head, tail = text.split(marker, 1)
            tail = marker + tail
        else:
            head, tail = text.rstrip() + "\n\n", ""
        intro, runs = INTRO, []
    kept = [RUN + chunk.rstrip() + "\n" for chunk in runs][: KEEP_RUNS - 1]
    body = intro.rstrip() + "\n\n" + "\n".join([run, *kept])
    REPORT.write_text(f"{head}{START}\n{body.strip()}\n{END}\n\n{tail.lstrip()}")


INTRO = """## Tenants at scale (`make bench-tenants`)

Provisioning copies the migrated template schema (tenancy/schema_clone.py); `manage.py migrate`
asks in one query which schemas lack which migrations and migrates only those, the template first,
then the tenants in parallel (tenancy/management/commands/migrate.py). Rewritten by each
`make bench-tenants` run (about 6 min on an otherwise idle 2-core machine), the last two runs
kept. Before this change (issue 16): tenant_create 0.5-0.74 s (migrations replayed), a no-op
`migrate` 43 s at 200 tenants (about 3.5 min at 1,000), `migrate_schemas
--executor=multiprocessing` 20 s.
"""


if __name__ == "__main__":
    main()
