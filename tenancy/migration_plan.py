"""Which schemas lack which migrations, found in one statement before any schema is walked.

Django records every migration of the project in every schema's ``django_migrations`` (the
router only turns another side's operations into no-ops), so a schema is up to date when its
history holds every node of the migration graph. One SELECT reads the history of the public
schema, the template and every tenant named in the tenant table (``query_to_xml`` runs the
per-schema read inside the server) and returns only the schemas that lack something.
"""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import get_public_schema_name, get_tenant_model

# %(expected)s: every "app.name" of the graph; %(template)s: the template schema's name.
PENDING = """
SELECT s.schema_name,
       CASE WHEN to_regclass(format('%%I.django_migrations', s.schema_name)) IS NULL
            THEN %(expected)s::text[]
            ELSE ARRAY(
                SELECT unnest(%(expected)s::text[])
                EXCEPT
                SELECT unnest(xpath('/table/row/m/text()', query_to_xml(
                    format('SELECT app || ''.'' || name AS m FROM %%I.django_migrations',
                           s.schema_name),
                    false, false, '')))::text
            )
       END AS missing
FROM (
    SELECT %(public)s::text, 0
    UNION ALL SELECT %(template)s::text, 1
    UNION ALL SELECT schema_name::text, 2 FROM {tenants} WHERE schema_name <> %(public)s
) AS s(schema_name, position)
ORDER BY s.position, s.schema_name
"""


def expected_migrations() -> list[str]:
    """Every migration of the project as ``app.name``, sorted."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return sorted(f"{app}.{name}" for app, name in graph.nodes)


def pending_migrations(template: str, expected: list[str]) -> dict[str, list[str]] | None:
    """``{schema: [missing "app.name", ...]}`` in walking order, up-to-date schemas left out.

    One statement. None when there is no tenant table yet (a new database): everything to do.
    """
    tenants = f'"{get_public_schema_name()}"."{get_tenant_model()._meta.db_table}"'
    sql = PENDING.format(tenants=tenants)
    params = {"expected": expected, "template": template, "public": get_public_schema_name()}
    connection.set_schema_to_public()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    except DatabaseError:  # migrate runs in autocommit: a failed statement leaves nothing behind
        if tenant_table_exists():
            raise
        return None
    return {schema: sorted(missing) for schema, missing in rows if missing}


def tenant_table_exists() -> bool:
    """Whether the public schema has the tenant table (a query; only after a failed plan)."""
    connection.set_schema_to_public()
    return get_tenant_model()._meta.db_table in connection.introspection.table_names()
