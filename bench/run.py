"""`make bench`: the API under gunicorn with production settings, side by side with the floor.

One invocation: recreate a throwaway database (``waqti_bench``), migrate, create the bench
tenants and tokens through the project's CLI, seed 1,000 purchase orders through the services,
serve the API and the floor (``bench/floor.py``) with the same gunicorn configuration, drive each
scenario with wrk on loopback (``bench/load.lua``), count statements and Redis round trips per
request in-process (``bench/queries.py``), watch a worker's RSS over 100,000 requests, and
write the results into BENCHMARKS.md (the last two invocations are kept).

Options: ``python -m bench.run --help``. Environment: DATABASE_URL (its server is used, with a
database named waqti_bench; unset: the embedded PostgreSQL), REDIS_URL (unset: process-local
cache, stated in the output and the report).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "bench"
REPORT = ROOT / "BENCHMARKS.md"
LOAD_SCRIPT = ROOT / "bench" / "load.lua"
GUNICORN_CONF = ROOT / "bench" / "gunicorn_conf.py"
BENCH_DATABASE = "waqti_bench"
RESULTS_START = "<!-- bench:results:start -->"
RESULTS_END = "<!-- bench:results:end -->"
RUN_MARK = "<!-- bench:run -->"
DATA_RE = re.compile(r"<!-- bench:data (\{.*?\}) -->", re.DOTALL)
KEEP_RUNS = 2

# The bench tenants' limits are raised far above the offered load: every request is still
# counted in both windows, none is refused. The over-limit tenant keeps the professional plan.
RAISED_LIMITS = {"enterprise": [1_000_000_000, 1_000_000_000]}


@dataclass(frozen=True)
class TenantSpec:
    slug: str
    name: str
    host: str
    plan: str


MAIN = TenantSpec("waqti-bench", "Bench Main", "bench.localhost", "enterprise")
WRITES = TenantSpec("waqti-bench-writes", "Bench Writes", "bench-writes.localhost", "enterprise")
LIMITED = TenantSpec(
    "waqti-bench-limited", "Bench Limited", "bench-limited.localhost", "professional"
)
TENANTS = (MAIN, WRITES, LIMITED)


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    path: str
    host: str
    token_key: str | None = None  # which token of the setup to send
    method: str = "GET"
    body: bool = False
    expected: frozenset[int] = frozenset({200})
    # Statuses that are correct but not the steady state (reported separately, not errors).
    tolerated: frozenset[int] = frozenset()
    floor: bool = False
    needs_po: bool = False


SCENARIOS = (
    Scenario("floor", "floor: bare Django JsonResponse", "/floor", "localhost", floor=True),
    Scenario("me", "GET /api/v1/me", "/api/v1/me", MAIN.host, "main"),
    Scenario(
        "po_list",
        "GET /api/v1/purchase-orders?per_page=15 (1,000 POs)",
        "/api/v1/purchase-orders?per_page=15",
        MAIN.host,
        "main",
        needs_po=True,
    ),
    Scenario(
        "po_create",
        "POST /api/v1/purchase-orders (3 items)",
        "/api/v1/purchase-orders",
        WRITES.host,
        "writes",
        method="POST",
        body=True,
        expected=frozenset({201}),
        needs_po=True,
    ),
    Scenario(
        "over_limit",
        "429 path: tenant over its professional limit",
        "/api/v1/me",
        LIMITED.host,
        "limited",
        expected=frozenset({429}),
        tolerated=frozenset({200}),
    ),
    Scenario(
        "invalid_token",
        "invalid token (per-IP guard engaged)",
        "/api/v1/me",
        MAIN.host,
        "invalid",
        expected=frozenset({429}),
        tolerated=frozenset({401}),
    ),
)

TARGETS = {
    "me": 0.30,
    "over_limit": 0.5,
    "invalid_token": 0.5,
    "po_list": 0.10,
}

STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


@dataclass
class Setup:
    """Everything the scenarios need, built once per invocation."""

    env: dict[str, str]
    database_url: str
    database_note: str
    redis_url: str | None
    tokens: dict[str, str] = field(default_factory=dict)
    schemas: list[str] = field(default_factory=list)
    po: dict[str, Any] | None = None
    po_note: str = ""
    body_file: str = ""


# --- Database and cache -------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path=f"/{name}"))


def prepare_database() -> tuple[str, str]:
    """Drop and recreate waqti_bench on DATABASE_URL's server (or the embedded one)."""
    import psycopg

    base = os.environ.get("DATABASE_URL", "")
    if base:
        server = urlparse(base).hostname or "socket"
        note = f"PostgreSQL from DATABASE_URL ({server}), database {BENCH_DATABASE}"
    else:
        sys.path.insert(0, str(ROOT))
        from waqti.embedded_db import ensure_embedded_database

        base = ensure_embedded_database(ROOT / ".var" / "postgres")
        note = f"embedded PostgreSQL (DATABASE_URL unset), database {BENCH_DATABASE}"
    admin = _with_database(base, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    return _with_database(base, BENCH_DATABASE), note


def clear_bench_keys(redis_url: str | None, schemas: list[str]) -> None:
    """Forget the bench tenants' counters, token versions and per-IP failures (never FLUSHDB)."""
    if not redis_url or not schemas:
        return
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for schema in schemas:
            keys = list(client.scan_iter(match=f"{schema}:*", count=1000))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
    finally:
        client.close()


# --- Processes -----------------------------------------------------------------------------------


def manage(setup: Setup, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=setup.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr}{result.stdout}")
    return result.stdout.strip()


def python_module(setup: Setup, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=setup.env,
        capture_output=True,
        text=True,
        check=False,
    )


@contextlib.contextmanager
def gunicorn(
    setup: Setup, app: str, port: int, name: str, workers: int
) -> Iterator[subprocess.Popen[bytes]]:
    env = dict(
        setup.env,
        BENCH_BIND=f"127.0.0.1:{port}",
        BENCH_WORKERS=str(workers),
        BENCH_PROC_NAME=f"waqti-bench-{name}",
    )
    if app.startswith("bench.floor"):
        env["DJANGO_SETTINGS_MODULE"] = "bench.floor"
    log_path = ARTIFACTS / f"{name}-server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), app],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def http_get(port: int, path: str, host: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_ready(
    port: int, path: str, host: str, process: subprocess.Popen[bytes], name: str
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} server exited; see {ARTIFACTS / (name + '-server.log')}")
        try:
            status, _ = http_get(port, path, host)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{name} server did not become ready on port {port}")


def workers_of(process: subprocess.Popen[bytes]) -> list[Any]:
    import psutil

    return psutil.Process(process.pid).children()


# --- Load ----------------------------------------------------------------------------------------


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


# --- Setup ---------------------------------------------------------------------------------------


def build(args: argparse.Namespace) -> Setup:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (Debian/Ubuntu package)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    database_url, database_note = prepare_database()
    redis_url = os.environ.get("REDIS_URL") or None
    if redis_url is None:
        log(
            "NOTE: REDIS_URL is unset: the server uses the process-local cache (LocMemCache); "
            "rate limits are per worker and the token snapshot cache is off."
        )
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS=".localhost,localhost,127.0.0.1",
        WAQTI_RATE_LIMITS=json.dumps(RAISED_LIMITS),
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    setup = Setup(
        env=env, database_url=database_url, database_note=database_note, redis_url=redis_url
    )
    log(f"database: {database_note}; migrating")
    manage(setup, "migrate", "--noinput", "-v", "0")
    for tenant in TENANTS:
        manage(
            setup,
            "add_tenant",
            tenant.slug,
            "--name",
            tenant.name,
            "--domain",
            tenant.host,
            "--plan",
            tenant.plan,
        )
    setup.tokens["main"] = manage(
        setup, "issue_token", MAIN.slug, "--name", "bench", "--abilities", "read,write"
    )
    setup.tokens["writes"] = manage(
        setup, "issue_token", WRITES.slug, "--name", "bench", "--abilities", "read,write"
    )
    setup.tokens["limited"] = manage(
        setup, "issue_token", LIMITED.slug, "--name", "bench", "--abilities", "read"
    )
    token_id = setup.tokens["main"].split("|", 1)[0]
    setup.tokens["invalid"] = f"{token_id}|{'Wrong' + '0' * 35}"  # well-formed, wrong secret
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT schema_name FROM tenancy_tenant WHERE slug = ANY(%s)",
            [[t.slug for t in TENANTS]],
        ).fetchall()
    setup.schemas = [row[0] for row in rows]
    clear_bench_keys(redis_url, setup.schemas)
    log(f"seeding {args.orders} purchase orders through procurement.services")
    seeded = python_module(setup, "bench.seed", MAIN.slug, "--orders", str(args.orders))
    writes = python_module(setup, "bench.seed", WRITES.slug, "--orders", "0")
    if seeded.returncode == 0 and writes.returncode == 0:
        setup.po = json.loads(seeded.stdout.strip().splitlines()[-1])
        write_ids = json.loads(writes.stdout.strip().splitlines()[-1])
        body = {
            "vendor_id": write_ids["vendor_id"],
            "department_id": write_ids["department_id"],
            "notes": "bench",
            "items": [
                {
                    "description": "A4 paper, box",
                    "quantity": 10,
                    "unit_price": "45.50",
                    "unit": "box",
                },
                {"description": "Toner cartridge", "quantity": "2.5", "unit_price": "310.25"},
                {"description": "Delivery", "quantity": 1, "unit_price": 75, "vat_rate": 0},
            ],
        }
        setup.po["body"] = body
        handle, path = tempfile.mkstemp(prefix="po-", suffix=".json", dir=ARTIFACTS)
        with os.fdopen(handle, "w") as f:
            json.dump(body, f)
        setup.body_file = path
    else:
        setup.po_note = (seeded.stderr or writes.stderr).strip().splitlines()[-1:]
        log(f"purchase orders unavailable, PO scenarios skipped: {setup.po_note}")
    return setup


# --- Facts about the machine ---------------------------------------------------------------------


def machine() -> dict[str, Any]:
    import psutil

    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def versions(setup: Setup) -> dict[str, str]:
    import psycopg

    found = {"Python": platform.python_version()}
    for package, label in (
        ("Django", "Django"),
        ("djangorestframework", "DRF"),
        ("django-tenants", "django-tenants"),
        ("django-ratelimit", "django-ratelimit"),
        ("gunicorn", "gunicorn"),
        ("psycopg", "psycopg"),
        ("redis", "redis-py"),
    ):
        try:
            found[label] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[label] = "not installed"
    with psycopg.connect(setup.database_url) as conn:
        found["PostgreSQL"] = str(conn.execute("SHOW server_version").fetchone()[0])
    if setup.redis_url:
        import redis

        client = redis.Redis.from_url(setup.redis_url)
        found["Redis"] = str(client.info("server")["redis_version"])
        client.close()
    else:
        found["Redis"] = "none (REDIS_URL unset: process-local cache)"
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    found["wrk"] = (wrk.stdout + wrk.stderr).splitlines()[0].split(" Copyright")[0]
    return found


# --- Report --------------------------------------------------------------------------------------


def summarize(repeats: list[dict[str, Any]]) -> dict[str, Any]:
    """Per scenario: medians over the repeats of rps, p50, p99 and the ratio to the floor."""
    summary: dict[str, Any] = {}
    for scenario in SCENARIOS:
        rows = [rep[scenario.key] for rep in repeats if scenario.key in rep]
        if not rows:
            continue
        ratios = [r["rps"] / r["floor_rps"] for r in rows]
        summary[scenario.key] = {
            "rps": statistics.median(r["rps"] for r in rows),
            "p50_ms": statistics.median(r["p50_us"] for r in rows) / 1000,
            "p99_ms": statistics.median(r["p99_us"] for r in rows) / 1000,
            "p99_over_p50": statistics.median(r["p99_us"] / max(1, r["p50_us"]) for r in rows),
            "errors": sum(r["errors"] for r in rows),
            "tolerated": sum(r["tolerated"] for r in rows),
            "requests": sum(r["requests"] for r in rows),
            "ratio": statistics.median(ratios),
            "ratios": ratios,
        }
    return summary


def verdicts(result: dict[str, Any]) -> dict[str, tuple[bool | None, str]]:
    """Each target: (met, how it was judged)."""
    s, q = result["summary"], result.get("queries", {})
    out: dict[str, tuple[bool | None, str]] = {}

    def ratio(key: str) -> tuple[bool | None, str]:
        if key not in s:
            return None, "not measured"
        return s[key]["ratio"] >= TARGETS[key], f"{s[key]['ratio']:.2f}x (>= {TARGETS[key]:.2f}x)"

    met, text = ratio("me")
    if "me" in s:
        shape = s["me"]["p99_over_p50"] <= 3
        out["me"] = (bool(met and shape), f"{text}; p99/p50 {s['me']['p99_over_p50']:.2f} (<= 3)")
    out["over_limit"] = ratio("over_limit")
    met, text = ratio("invalid_token")
    if "invalid_token" in q:
        zero = q["invalid_token"]["sql"] == 0
        out["invalid_token"] = (
            bool(met and zero),
            f"{text}; {q['invalid_token']['sql']} SQL statements per request",
        )
    else:
        out["invalid_token"] = (met, text)
    if "po_list" in s:
        met, text = ratio("po_list")
        counts = {k: v["sql"] for k, v in q.items() if k.startswith("po_list")}
        constant = len(set(counts.values())) == 1 if counts else None
        out["po_list"] = (
            bool(met and constant),
            f"{text}; statements per page {sorted(set(counts.values()))} "
            f"for per_page 15/100 and page 1/7",
        )
    mem = result.get("memory")
    if mem:
        out["memory"] = (
            mem["max_growth_pct"] < 10,
            f"max worker RSS growth {mem['max_growth_pct']:+.1f}% over "
            f"{mem['requests']:,} requests (< 10%)",
        )
    return out


def render_run(result: dict[str, Any]) -> str:
    s = result["summary"]
    lines = [
        RUN_MARK,
        f"### Run of {result['finished_at']}",
        "",
        f"Command: `{result['command']}` ({result['wall_seconds']:.0f} s wall). "
        f"{result['repeats_count']} repeats of {result['duration']:.0f} s per scenario "
        f"(after {result['warmup']:.0f} s warm-up), "
        f"wrk -t{result['threads']} -c{result['connections']}, "
        f"gunicorn {result['workers']} sync workers, medians over the repeats; each ratio is "
        "taken against the floor measured just before and just after that scenario "
        "(half the duration each).",
        "",
        f"Database: {result['database_note']}. Cache: {result['cache_note']}.",
        "",
        "| scenario | req/s | p50 ms | p99 ms | errors | ratio to floor | per repeat |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for scenario in SCENARIOS:
        if scenario.key not in s:
            continue
        row = s[scenario.key]
        extra = ""
        if row["tolerated"]:
            extra = f" (+{row['tolerated']} {'/'.join(map(str, sorted(scenario.tolerated)))})"
        lines.append(
            f"| {scenario.title} | {row['rps']:.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | "
            f"{row['errors']}{extra} | {row['ratio']:.2f}x | "
            f"{', '.join(f'{r:.2f}' for r in row['ratios'])} |"
        )
    lines.append("")
    if result.get("po_note"):
        lines += [f"PO scenarios skipped: {result['po_note']}", ""]
    q = result.get("queries")
    if q:
        lines += [
            "Per request, steady state (in-process, counted at the driver):",
            "",
            "| request | status | SQL statements | Redis round trips |",
            "|---|---:|---:|---:|",
        ]
        for key, value in q.items():
            lines.append(
                f"| {key} | {value.get('status', '')} | {value['sql']} | {value['redis']} |"
            )
        lines.append("")
    mem = result.get("memory")
    if mem:
        workers = "; ".join(
            f"{w['rss_before_mb']:.1f} -> {w['rss_after_mb']:.1f} MB ({w['growth_pct']:+.1f}%)"
            for w in mem["workers"]
        )
        lines += [
            f"Memory: {mem['requests']:,} requests to /me in {mem['seconds']:.0f} s; "
            f"worker RSS {workers}.",
            "",
        ]
    lines += ["Targets:", ""]
    names = {
        "me": "/me",
        "over_limit": "429 path",
        "invalid_token": "invalid token",
        "po_list": "PO list",
        "memory": "worker RSS",
    }
    for key, (met, text) in verdicts(result).items():
        mark = "not measured" if met is None else ("met" if met else "NOT met")
        lines.append(f"- {names[key]}: {mark}: {text}")
    lines += [
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in result["machine"].items()),
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in result["versions"].items()),
        "",
    ]
    compact = {k: result[k] for k in ("finished_at", "summary", "queries", "memory") if k in result}
    lines += [f"<!-- bench:data {json.dumps(compact, separators=(',', ':'))} -->", ""]
    return "\n".join(lines)


def render_overview(runs: list[dict[str, Any]]) -> str:
    lines = ["## Latest results (medians; ratios to the floor in the same run)", ""]
    header = "| scenario | target | " + " | ".join(r["finished_at"] for r in runs) + " |"
    lines += [header, "|---|---|" + "---:|" * len(runs)]
    targets = {
        "me": ">= 0.30x, p99 <= 3x p50",
        "over_limit": ">= 0.50x",
        "invalid_token": ">= 0.50x, 0 SQL/request",
        "po_list": ">= 0.10x, constant SQL",
        "po_create": "(reported)",
        "floor": "1.00x",
    }
    for scenario in SCENARIOS:
        cells = []
        for run in runs:
            row = run["summary"].get(scenario.key)
            if row is None:
                cells.append("-")
                continue
            cell = (
                f"{row['rps']:.0f} req/s, {row['ratio']:.2f}x, "
                f"p50 {row['p50_ms']:.2f} / p99 {row['p99_ms']:.2f} ms"
            )
            cells.append(cell)
        lines.append(
            f"| {scenario.title} | {targets.get(scenario.key, '')} | " + " | ".join(cells) + " |"
        )
    cells = []
    for run in runs:
        mem = run.get("memory")
        cells.append(
            f"{mem['max_growth_pct']:+.1f}% over {mem['requests']:,} requests" if mem else "-"
        )
    lines.append("| worker RSS growth | < 10% | " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)


def write_report(result: dict[str, Any]) -> None:
    text = REPORT.read_text() if REPORT.exists() else ""
    if RESULTS_START in text and RESULTS_END in text:
        head, rest = text.split(RESULTS_START, 1)
        region, tail = rest.split(RESULTS_END, 1)
    elif text:  # hand-written text without a results section yet: keep it above the results
        head, region, tail = text.rstrip() + "\n\n", "", ""
    else:
        head = (
            "# Benchmarks\n\nGenerated by `make bench` (`python -m bench.run`); the results "
            "section below is rewritten by each run, the last two runs are kept.\n\n"
        )
        region, tail = "", ""
    previous = [chunk.strip() for chunk in region.split(RUN_MARK)[1:]]
    kept = [RUN_MARK + "\n" + chunk for chunk in previous][: KEEP_RUNS - 1]
    new_run = render_run(result)
    runs_data = [json.loads(DATA_RE.search(new_run).group(1))]  # type: ignore[union-attr]
    for chunk in kept:
        match = DATA_RE.search(chunk)
        if match:
            runs_data.append(json.loads(match.group(1)))
    body = "\n".join([render_overview(runs_data), new_run, *kept])
    REPORT.write_text(f"{head}{RESULTS_START}\n{body}\n{RESULTS_END}{tail}")


# --- Main ----------------------------------------------------------------------------------------


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
            setup, "bench.floor:application", args.floor_port, "floor", args.workers
        ) as floor_server,
        gunicorn(setup, "waqti.wsgi:application", args.app_port, "app", args.workers) as app,
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
        counted = python_module(setup, "bench.queries", json.dumps(probe))
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
