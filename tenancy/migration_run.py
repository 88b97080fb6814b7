"""Migrating schemas: each in one transaction, tenants in parallel, stopping at the first failure.

Each schema is migrated by django-tenants' ``run_migrations`` (Django's migrate on that schema)
inside ``transaction.atomic()``: PostgreSQL DDL is transactional, so a schema ends either fully
migrated or untouched. Tenants run in forked worker processes; after the first failure no worker
starts another schema, the ones already running finish (or fail and roll back), and the rest are
left as they were.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, transaction
from django_tenants.migration_executors.base import run_migrations

from tenancy.schema_clone import ident

CODENAME = "parallel"


@dataclass(frozen=True)
class Outcome:
    """What became of one schema: not started (after a failure), migrated, or failed."""

    schema: str
    started: bool = False
    seconds: float = 0.0
    error: str | None = None


def migrate_schema(
    schema: str, args: tuple[Any, ...], options: dict[str, Any], *, lock_history: bool = False
) -> Outcome:
    """Migrate one schema in one transaction; the error, if any, is returned, not raised.

    ``lock_history`` (the template): EXCLUSIVE on its django_migrations first, so a tenant being
    cloned meanwhile waits and copies the template either before or after this migration.
    """
    started = time.perf_counter()
    try:
        with transaction.atomic():
            if lock_history:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT to_regclass(format('%%I.django_migrations', %s::text))", [schema]
                    )
                    if cursor.fetchone()[0] is not None:
                        cursor.execute(
                            f"LOCK TABLE {ident(schema)}.django_migrations IN EXCLUSIVE MODE"
                        )
            run_migrations(args, options, CODENAME, schema, allow_atomic=True)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}".strip()
        return Outcome(schema, True, time.perf_counter() - started, error)
    finally:
        connection.set_schema_to_public()
    return Outcome(schema, True, time.perf_counter() - started)


# Set in each worker by start_worker (inherited through fork, never pickled).
worker_state: dict[str, Any] = {}


def start_worker(stop: Any, args: tuple[Any, ...], options: dict[str, Any]) -> None:
    worker_state.update(stop=stop, args=args, options=options)


def migrate_unless_stopped(schema: str) -> Outcome:
    stop = worker_state["stop"]
    if stop.is_set():
        return Outcome(schema)
    outcome = migrate_schema(schema, worker_state["args"], worker_state["options"])
    if outcome.error:
        stop.set()
    return outcome


def migrate_tenants(
    schemas: list[str],
    args: tuple[Any, ...],
    options: dict[str, Any],
    processes: int,
    report: Callable[[Outcome], None],
) -> list[Outcome]:
    """Migrate ``schemas`` over ``processes`` workers, reporting each outcome as it comes."""
    outcomes: list[Outcome] = []
    for outcome in outcomes_of(schemas, args, options, processes):
        outcomes.append(outcome)
        report(outcome)
    return outcomes


def outcomes_of(
    schemas: list[str], args: tuple[Any, ...], options: dict[str, Any], processes: int
) -> Iterator[Outcome]:
    if processes <= 1 or len(schemas) <= 1:
        failed = False
        for schema in schemas:
            outcome = Outcome(schema) if failed else migrate_schema(schema, args, options)
            failed = failed or outcome.error is not None
            yield outcome
        return
    # fork: the workers inherit the configured Django; no connection may cross the fork.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    with context.Pool(
        min(processes, len(schemas)), initializer=start_worker, initargs=(stop, args, options)
    ) as pool:
        yield from pool.imap_unordered(migrate_unless_stopped, schemas)
