"""The results: medians per scenario, target verdicts, and BENCHMARKS.md's results block."""

from __future__ import annotations

import json
import re
import statistics
from typing import Any

from bench.config import REPORT, SCENARIOS, TARGETS

RESULTS_START = "<!-- bench:results:start -->"
RESULTS_END = "<!-- bench:results:end -->"
RUN_MARK = "<!-- bench:run -->"
DATA_RE = re.compile(r"<!-- bench:data (\{.*?\}) -->", re.DOTALL)
KEEP_RUNS = 2


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
    out["rate_limit"] = ratio("rate_limit")
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
        "rate_limit": "/rate-limit",
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
        "rate_limit": ">= 0.30x",
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
