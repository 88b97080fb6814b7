"""No fault: the figures every other row is compared with."""

from __future__ import annotations

from faults.harness import Row, Stack, load

CLIENTS = 8


def run(quick: bool) -> Row:
    with Stack(workers=4) as stack:
        load(stack, "/api/v1/me", seconds=1, clients=CLIENTS)  # warm the workers' caches
        result = load(stack, "/api/v1/me", seconds=3 if quick else 10, clients=CLIENTS)
    statuses = result.statuses()
    return Row(
        fault=f"none (baseline), {CLIENTS} clients on /me, 4 workers",
        measured=(
            f"{result.rate():.0f} req/s, p50 {result.p50() * 1000:.1f} ms, "
            f"statuses {dict(sorted(statuses.items()))}"
        ),
        requirement="every answer a 200 with a JSON body",
        ok=set(statuses) == {200} and result.without_json() == 0,
    )
