"""Which schemas lack which migrations, found in one statement before any schema is walked.

Django records every migration of the project in every schema's ``django_migrations`` (the
router only turns another side's operations into no-ops), so a schema is up to date when its
history holds every node of the migration graph. One SELECT names the schemas (public, the
template, every tenant in the tenant table) and hands them to ``public.waqti_schemas_behind``
(tenancy/migrations/0003_schemas_behind.py), which reads each history inside the server and
returns only the schemas that lack something.
"""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import get_public_schema_name, get_tenant_model

# %(expected)s: every "app.name" of the graph; %(template)s: the template schema's name.
PENDING = """
SELECT schema_name, missing FROM {public}.waqti_schemas_behind(
    ARRAY(
        SELECT name FROM (
            SELECT %(public)s::text, 0
            UNION ALL SELECT %(template)s::text, 1
            UNION ALL SELECT schema_name::text, 2 FROM {tenants}
            WHERE schema_name <> %(public)s::text
        ) AS s(name, position)
        ORDER BY position, name
    ),
    %(expected)s::text[]
)
"""


def expected_migrations() -> list[str]:
    """Every migration of the project as ``app.name``, sorted."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return sorted(f"{app}.{name}" for app, name in graph.nodes)


def pending_migrations(template: str, expected: list[str]) -> dict[str, list[str]] | None:
    """``{schema: [missing "app.name", ...]}`` in walking order, up-to-date schemas left out.

    One statement. None when the public schema is not migrated far enough to answer (a new
    database, or one from before migration tenancy 0003): migrate the public schema first.
    """
    public = f'"{get_public_schema_name()}"'
    sql = PENDING.format(public=public, tenants=f'{public}."{get_tenant_model()._meta.db_table}"')
    params = {"expected": expected, "template": template, "public": get_public_schema_name()}
    connection.set_schema_to_public()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    except DatabaseError:  # migrate runs in autocommit: a failed statement leaves nothing behind
        return None
    return {schema: sorted(missing) for schema, missing in rows if missing}
