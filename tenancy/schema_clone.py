"""A new tenant's schema, copied from the migrated template schema in one round trip.

``migrate`` keeps one schema, ``settings.WAQTI_TENANT_TEMPLATE_SCHEMA``, migrated like every
tenant and never written to otherwise (tenancy/migration_plan.py). A new tenant's schema is built
from the template's catalog instead of replaying every migration:

* each table as ``CREATE TABLE new.t (LIKE template.t INCLUDING ALL EXCLUDING INDEXES EXCLUDING
  CONSTRAINTS)``: columns, types, NOT NULL, defaults and identity columns, whose sequences are new
  ones, owned by the new table and starting fresh;
* every constraint and index under its own name (``pg_get_constraintdef`` / ``pg_get_indexdef``,
  read with only the template on the search_path so the definitions name no schema, and replayed
  with only the new schema on it: a foreign key points inside the new schema);
* the rows ``migrate`` itself writes (``MIGRATION_OWNED_TABLES``: the migration history, content
  types, permissions and the tenant-admin group) and their sequences' positions; nothing else of
  the template's is copied.

django-tenants' own clone (``TENANT_BASE_SCHEMA``) installs a 4,600-line PL/pgSQL function on every
call and then replays ``migrate --fake``: 0.6-1.1 s per tenant measured here, against the
150 ms target. tests/tenancy/test_schema_clone.py proves a clone equals a migrated schema.
"""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import quote_schema_name

# Tables whose rows a migration writes into every tenant schema (post_migrate's content types and
# permissions, tokens 0003's group). The clone-equals-migrate test compares every table's rows, so
# a data migration that seeds another table fails it until the table is listed here.
MIGRATION_OWNED_TABLES = (
    "django_migrations",
    "django_content_type",
    "auth_permission",
    "auth_group",
    "auth_group_permissions",
)

TABLES = """
SELECT c.relname FROM pg_class c
WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'r'
ORDER BY c.relname
"""

# The identity columns' sequences: name and type (LIKE makes every new
# one bigint, whatever the template's, e.g. Django's older integer AutoFields).
SEQUENCES = """
SELECT c.relname, a.attname, q.relname, format_type(s.seqtypid, NULL)
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
JOIN pg_depend d ON d.refobjid = c.oid AND d.refobjsubid = a.attnum AND d.deptype = 'i'
     AND d.classid = 'pg_class'::regclass
JOIN pg_class q ON q.oid = d.objid AND q.relkind = 'S'
JOIN pg_sequence s ON s.seqrelid = q.oid
WHERE c.relnamespace = %s::regnamespace AND a.attidentity <> ''
ORDER BY c.relname, a.attnum
"""

CONSTRAINTS = """
SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), r.relname
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
LEFT JOIN pg_class r ON r.oid = k.confrelid
WHERE k.connamespace = %s::regnamespace AND k.contype IN ('p', 'u', 'x', 'c', 'f')
ORDER BY c.relname, k.contype = 'f', k.conname
"""

# Indexes that are not a constraint's own (those come with ADD CONSTRAINT). pg_get_indexdef
# always qualifies the table, so its qualified and bare names come along.
INDEXES = """
SELECT pg_get_indexdef(i.indexrelid), format('%%I.%%I', %s::text, t.relname), t.relname
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
WHERE c.relnamespace = %s::regnamespace
  AND NOT EXISTS (
      SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x')
  )
ORDER BY c.relname
"""


def ident(name: str) -> str:
    """A quoted SQL identifier (schema, table, column or constraint name)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A quoted SQL string literal (standard_conforming_strings is on since PostgreSQL 9.1)."""
    return "'" + text.replace("'", "''") + "'"


def unqualified(definition: str, qualified_table: str, table: str) -> str:
    """``CREATE INDEX i ON template.t USING ...`` -> ``CREATE INDEX i ON "t" USING ...``."""
    before, on, after = definition.partition(f" ON {qualified_table} USING ")
    if not on:
        raise ValueError(f"unexpected index definition: {definition}")
    return f"{before} ON {ident(table)} USING {after}"


def lock_template_for_reading(template: str) -> None:
    """Wait for a migration of the template in progress; keep the next one out until commit.

    ``migrate`` takes EXCLUSIVE on the template's history before changing the template
    (tenancy/migration_plan.py), so a clone never reads half a migration: structure and history
    come from the same state of the template.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {quote_schema_name(template)}.django_migrations IN SHARE MODE")


def template_state(template: str) -> tuple[int, int]:
    """The template's migration history in brief: its structure changes only with it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), coalesce(max(id), 0) FROM {ident(template)}.django_migrations"  # noqa: S608
        )
        count, last = cursor.fetchone()
    return count, last


def creation_order(tables: list[str], references: dict[str, set[str]]) -> list[str]:
    """Tables ordered so each comes after the tables its foreign keys point at, where possible."""
    ordered: list[str] = []
    placed: set[str] = set()
    pending = list(tables)
    while pending:
        ready = [t for t in pending if references.get(t, set()) - {t} <= placed] or pending[:1]
        for table in ready:
            ordered.append(table)
            placed.add(table)
            pending.remove(table)
    return ordered


def clone_script(template: str) -> str:
    """The statements building a copy of ``template`` in the schema first on the search_path.

    Each table is created with its checks, keys and the foreign keys to tables created before it
    (a cycle's remaining keys are added after); then the migration-owned rows, the other indexes,
    and the sequence positions. Leaves the connection on the template schema.
    """
    connection.set_schema(template, include_public=False)
    with connection.cursor() as cursor:
        cursor.execute(TABLES, [template])
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(SEQUENCES, [template])
        sequences = cursor.fetchall()
        cursor.execute(CONSTRAINTS, [template])
        constraints = cursor.fetchall()
        cursor.execute(INDEXES, [template, template])
        indexes = [unqualified(*row) for row in cursor.fetchall()]
    references: dict[str, set[str]] = {}
    for table, _name, kind, _definition, referenced in constraints:
        if kind == "f":
            references.setdefault(table, set()).add(referenced)
    source = ident(template)
    statements, later = [], []
    created: set[str] = set()
    for table in creation_order(tables, references):
        elements = [
            f"LIKE {source}.{ident(table)} INCLUDING ALL EXCLUDING INDEXES EXCLUDING CONSTRAINTS"
        ]
        for owner, name, kind, definition, referenced in constraints:
            if owner != table:
                continue
            if kind == "f" and referenced not in created | {table}:
                later.append(
                    f"ALTER TABLE {ident(table)} ADD CONSTRAINT {ident(name)} {definition}"
                )
            else:
                elements.append(f"CONSTRAINT {ident(name)} {definition}")
        statements.append(f"CREATE TABLE {ident(table)} ({', '.join(elements)})")
        created.add(table)
    statements.extend(later)
    statements.extend(indexes)
    # Rows last: an index cannot be built on a table with foreign-key checks pending.
    for table in creation_order(tables, references):
        if table in MIGRATION_OWNED_TABLES:
            statements.append(
                f"INSERT INTO {ident(table)} OVERRIDING SYSTEM VALUE "  # noqa: S608 (identifiers)
                f"SELECT * FROM {source}.{ident(table)}"
            )
    for table, column, name, data_type in sequences:
        if data_type != "bigint":
            statements.append(f"ALTER SEQUENCE {ident(name)} AS {data_type}")
        if table not in MIGRATION_OWNED_TABLES:
            continue
        # The sequence goes on from where the template's is, as after a migration.
        statements.append(
            f"SELECT setval(pg_get_serial_sequence({literal(ident(table))}, {literal(column)}), "  # noqa: S608
            f"last_value, is_called) FROM {source}.{ident(name)}"
        )
    return ";\n".join(statements)


# (template, template_state) -> clone_script: the catalog is read once per template state.
scripts: dict[tuple[str, tuple[int, int]], str] = {}


def clone_schema(template: str, target: str) -> None:
    """Create schema ``target`` as an empty copy of ``template``, in the caller's transaction.

    Must run inside ``transaction.atomic()``: the template is locked until commit, and a failure
    leaves nothing (PostgreSQL DDL is transactional). Leaves the connection on the public schema.
    """
    try:
        lock_template_for_reading(template)
        key = (template, template_state(template))
        if key not in scripts:
            scripts[key] = clone_script(template)
        connection.set_schema(target, include_public=False)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA {ident(target)};\n{scripts[key]}")
    finally:
        connection.set_schema_to_public()
