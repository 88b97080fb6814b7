"""What the bench measures and where: paths, the bench tenants, the scenarios and their targets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "bench"
REPORT = ROOT / "BENCHMARKS.md"
LOAD_SCRIPT = ROOT / "bench" / "load.lua"
GUNICORN_CONF = ROOT / "bench" / "gunicorn_conf.py"
BENCH_DATABASE = "waqti_bench"

# The bench tenants' limits are raised far above the offered load: every request is still
# counted in both windows, none is refused. The over-limit tenant keeps the professional plan.
RAISED_LIMITS = {"enterprise": [1_000_000_000, 1_000_000_000]}
# GET /api/v1/rate-limit's own per-token limit (60/min in production), raised likewise so the
# scenario measures its answered path.
RAISED_RATE_LIMIT_ENDPOINT = 1_000_000_000


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
        "rate_limit",
        "GET /api/v1/rate-limit (own limit raised)",
        "/api/v1/rate-limit",
        MAIN.host,
        "main",
    ),
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
    "rate_limit": 0.30,
    "over_limit": 0.5,
    "invalid_token": 0.5,
    "po_list": 0.10,
}
