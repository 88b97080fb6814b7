"""``manage.py migrate``: one query when there is nothing to do; tenants in parallel otherwise.

django-tenants' ``migrate`` walks every schema (0.2 s each, whether or not anything is pending).
This one first asks, in one statement, which schemas lack which migrations
(tenancy/migration_plan.py), then migrates only those: the public schema, then the template
schema new tenants are copied from (a canary: if a migration fails there, no tenant is touched),
then the tenants over ``--processes`` workers, each schema in one transaction, with a line per
tenant and a summary; the first failure is named and stops the run.

Targeted runs (an app label or migration name, ``--schema``, ``--shared``, ``--tenant``,
``--fake``, ``--fake-initial``, ``--plan``, ``--prune``, ``--check``) are django-tenants' own
``migrate_schemas``, unchanged.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import connection
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.migration_executors.base import run_migrations
from django_tenants.utils import get_public_schema_name

from tenancy.migration_plan import expected_migrations, pending_migrations
from tenancy.migration_run import CODENAME, Outcome, migrate_schema, migrate_tenants
from tenancy.schema_clone import ident

TARGETED = (
    "app_label",
    "migration_name",
    "schema_name",
    "shared",
    "tenant",
    "fake",
    "fake_initial",
    "plan",
    "prune",
    "check_unapplied",
)


class Command(MigrateSchemasCommand):
    help = (
        "Migrate the public schema, the tenant template and every tenant that lacks a "
        "migration (found in one query); tenants in parallel, stopping at the first failure."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--processes",
            type=int,
            default=None,
            help="tenant schemas migrated at once (default: WAQTI_MIGRATE_PROCESSES)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if any(options.get(name) for name in TARGETED):
            super().handle(*args, **options)
            return
        self.verbosity = int(options["verbosity"])
        started = time.perf_counter()
        public = get_public_schema_name()
        template = settings.WAQTI_TENANT_TEMPLATE_SCHEMA
        expected = expected_migrations()
        plan = pending_migrations(template, expected)
        if plan is None or public in plan:
            self.note(f"{public}: migrating the shared apps")
            run_migrations(args, options, CODENAME, public)
            plan = pending_migrations(template, expected)
            if plan is None:
                raise CommandError("the public schema is migrated but cannot say who is behind")
        plan.pop(public, None)
        if not plan:
            self.note(f"No migrations to apply (checked in {time.perf_counter() - started:.2f} s).")
            return
        inner = self.inner_options(options)
        if template in plan:
            missing = plan.pop(template)
            self.create_schema_if_missing(template)
            outcome = migrate_schema(template, args, inner, lock_history=True)
            if outcome.error:
                raise CommandError(
                    f"migrate stopped: the template schema {template} failed, no tenant was "
                    f"touched: {outcome.error}"
                )
            self.note(
                f"{template} (template): {len(missing)} migrations in {outcome.seconds:.2f} s"
            )
        if plan:
            self.migrate_tenants(plan, args, inner, options, started)
        else:
            self.note(f"Done in {time.perf_counter() - started:.2f} s; every tenant up to date.")

    def migrate_tenants(
        self,
        plan: dict[str, list[str]],
        args: tuple[Any, ...],
        inner: dict[str, Any],
        options: dict[str, Any],
        started: float,
    ) -> None:
        total = len(plan)
        processes = options["processes"] or settings.WAQTI_MIGRATE_PROCESSES
        self.note(f"Migrating {total} tenant schemas over {min(processes, total)} processes")
        done = 0

        def report(outcome: Outcome) -> None:
            nonlocal done
            if not outcome.started:
                return
            done += 1
            state = f"FAILED: {outcome.error}" if outcome.error else "migrated"
            self.note(
                f"[{done}/{total}] {outcome.schema}: {len(plan[outcome.schema])} migrations "
                f"{state} ({outcome.seconds:.2f} s)"
            )

        outcomes = migrate_tenants(list(plan), args, inner, processes, report)
        failed = [o for o in outcomes if o.error]
        migrated = sum(1 for o in outcomes if o.started and not o.error)
        untouched = total - migrated - len(failed)
        elapsed = time.perf_counter() - started
        if failed:
            first = failed[0]
            raise CommandError(
                f"migrate stopped at the first failure: tenant schema {first.schema}: "
                f"{first.error}\n{migrated} tenant schemas migrated, {len(failed)} failed and "
                f"rolled back, {untouched} untouched ({elapsed:.1f} s). Fix the migration and "
                "run migrate again: it picks up exactly the schemas still behind."
            )
        self.note(f"Done: {migrated} tenant schemas migrated in {elapsed:.1f} s.")

    def inner_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """Options of the per-schema migrate: quiet (a line per tenant is ours), no re-checks."""
        inner = {k: v for k, v in options.items() if k not in ("stdout", "stderr")}
        inner.update(verbosity=max(self.verbosity - 1, 0), skip_checks=True, interactive=False)
        return inner

    def create_schema_if_missing(self, schema: str) -> None:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(schema)}")

    def note(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)
