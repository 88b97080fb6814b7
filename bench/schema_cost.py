"""What ``GET /api/v1/schema/`` costs in-process: cold build, cached request, 304, uncached view.

``python -m bench.schema_cost [--cold N] [--warm N]`` prints a table of medians and one JSON line.
It calls the views directly (no middleware, no server) with production settings
(``DJANGO_DEBUG=0``) and needs no database: when DATABASE_URL is unset a placeholder is used
instead of starting the embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any


def timed(call: Callable[[], Any], repeats: int) -> dict[str, float]:
    """Median wall and CPU milliseconds of ``call`` over ``repeats`` runs."""
    wall, cpu = [], []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {"wall_ms": statistics.median(wall), "cpu_ms": statistics.median(cpu), "runs": repeats}


def measure(cold_repeats: int, warm_repeats: int) -> dict[str, dict[str, float]]:
    from django.test import RequestFactory
    from drf_spectacular.views import SpectacularAPIView

    from waqti.api.docs import SchemaView

    class UncachedSchemaView(SpectacularAPIView):
        """drf-spectacular's own view configured as ours: what every request cost before."""

        authentication_classes = SchemaView.authentication_classes
        permission_classes = SchemaView.permission_classes
        renderer_classes = SchemaView.renderer_classes
        urlconf = SchemaView.urlconf

    factory = RequestFactory()
    cached, uncached = SchemaView.as_view(), UncachedSchemaView.as_view()

    def get(view: Callable[..., Any], query: str = "", **headers: str) -> Any:
        request = factory.get("/api/v1/schema/" + query, HTTP_HOST="acme.localhost", **headers)
        response = view(request)
        if hasattr(response, "render"):
            response.render()
        assert response.status_code in (200, 304), response.status_code
        return response

    def cold(query: str = "") -> None:
        SchemaView.clear_cache()
        get(cached, query)

    results = {
        "first request of a process (imports, first use)": timed(lambda: get(uncached), 1),
        "uncached view (before), JSON": timed(lambda: get(uncached), cold_repeats),
        "cold build + JSON render": timed(cold, cold_repeats),
    }
    results["cold build + YAML render"] = timed(lambda: cold("?format=yaml"), cold_repeats)
    etag = get(cached)["ETag"]
    results["warm request, JSON (cached)"] = timed(lambda: get(cached), warm_repeats)
    results["warm request, If-None-Match (304)"] = timed(
        lambda: get(cached, HTTP_IF_NONE_MATCH=etag), warm_repeats
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=7, help="cold builds to take the median of")
    parser.add_argument("--warm", type=int, default=2000, help="cached requests to time")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "waqti.settings")
    # Production settings, as make bench; no database is touched, so a placeholder URL will do.
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-schema-cost-only")
    os.environ.setdefault("DATABASE_URL", "postgresql://unused@127.0.0.1:1/unused")
    import django

    django.setup()
    results = measure(args.cold, args.warm)
    width = max(map(len, results))
    print(f"{'GET /api/v1/schema/ (in-process)':<{width}}  median wall   median CPU   runs")
    for name, figures in results.items():
        print(
            f"{name:<{width}}  {figures['wall_ms']:>8.2f} ms  {figures['cpu_ms']:>8.2f} ms"
            f"  {figures['runs']:>5}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
