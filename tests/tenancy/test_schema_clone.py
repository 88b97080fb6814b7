"""A tenant copied from the template equals one built by replaying every migration.

Compared from pg_catalog: tables, columns (order, type, nullability, default, identity; a copy
has no dropped columns, so its attnums may be smaller), constraints (with the schema each
foreign key points into), indexes, sequences (owner, type, options, position),
non-internal triggers, and every table's rows. The schema's own name is normalised; any other
schema named (the template's, above all) is kept, so a copy that still points at the template
differs.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_exists

from tenancy import schema_clone
from tenancy.models import Domain, Tenant
from tenancy.schema_clone import clone_schema, ident
from tenancy.services import tenant_create
from tests.helpers import issue_token

TEMPLATE = settings.WAQTI_TENANT_TEMPLATE_SCHEMA

CATALOG = {
    "tables": """
        SELECT relname, relkind::text FROM pg_class
        WHERE relnamespace = %(s)s::text::regnamespace AND relkind IN ('r', 'v', 'm', 'p', 'f')
    """,
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
               row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum) -- order, not attnum:
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = %(s)s::text::regnamespace AND c.relkind = 'r'
          AND a.attnum > 0 AND NOT a.attisdropped
    """,
    "constraints": """
        SELECT c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid),
               k.condeferrable, k.condeferred, r.relnamespace::regnamespace::text, r.relname
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        LEFT JOIN pg_class r ON r.oid = k.confrelid
        WHERE k.connamespace = %(s)s::text::regnamespace
    """,
    "indexes": """
        SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = %(s)s::text::regnamespace
    """,
    "sequences": """
        SELECT s.sequencename, s.data_type::text, s.start_value, s.increment_by, s.min_value,
               s.max_value, s.cache_size, s.cycle, s.last_value,
               t.relnamespace::regnamespace::text, t.relname, a.attname, d.deptype::text
        FROM pg_sequences s
        JOIN pg_class q ON q.relname = s.sequencename AND q.relnamespace = %(s)s::text::regnamespace
        LEFT JOIN pg_depend d ON d.objid = q.oid AND d.classid = 'pg_class'::regclass
             AND d.refclassid = 'pg_class'::regclass
        LEFT JOIN pg_class t ON t.oid = d.refobjid
        LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE s.schemaname = %(s)s::text
    """,
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = %(s)s::text::regnamespace AND NOT t.tgisinternal
    """,
    "other objects": """
        SELECT 'function', proname::text FROM pg_proc WHERE pronamespace = %(s)s::text::regnamespace
        UNION ALL
        SELECT 'type', typname::text FROM pg_type
        WHERE typnamespace = %(s)s::text::regnamespace AND typtype <> 'c' AND typelem = 0
    """,
}


def normalised(value: Any, schema: str) -> Any:
    if value == schema:
        return "<schema>"
    if isinstance(value, str):
        return value.replace(f"{ident(schema)}.", "<schema>.").replace(f"{schema}.", "<schema>.")
    return value


def catalog(schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Everything pg_catalog says about ``schema``, its own name replaced by <schema>."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with connection.cursor() as cursor:
        for part, sql in CATALOG.items():
            cursor.execute(sql, {"s": schema})
            rows = [tuple(normalised(v, schema) for v in row) for row in cursor.fetchall()]
            found[part] = sorted(rows, key=repr)
    return found


def differences(got: list[Any], expected: list[Any]) -> tuple[list[Any], list[Any]]:
    """(rows only in ``got``, rows only in ``expected``): readable when a comparison fails."""
    return [r for r in got if r not in expected], [r for r in expected if r not in got]


def rows(schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows (the migration history without its timestamps)."""
    found = {}
    with connection.cursor() as cursor:
        for table, _kind in catalog(schema)["tables"]:
            columns = "app, name" if table == "django_migrations" else "*"
            cursor.execute(f"SELECT {columns} FROM {ident(schema)}.{ident(table)}")  # noqa: S608
            found[table] = sorted(cursor.fetchall(), key=repr)
    return found


def migrated_schema(schema: str) -> None:
    """django-tenants' way without a template: create the schema, replay every migration."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {ident(schema)}")
    call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=0)
    connection.set_schema_to_public()


def test_template_exists_after_migrate_and_equals_a_migrated_schema(db):
    migrated_schema("t_replayed")
    expected, template = catalog("t_replayed"), catalog(TEMPLATE)
    for part in CATALOG:
        assert differences(template[part], expected[part]) == ([], []), part
    assert len(expected["tables"]) >= 20 and len(expected["sequences"]) >= 19


def test_clone_equals_a_migrated_schema_and_copies_none_of_the_templates_data(db):
    with connection.cursor() as cursor:  # data that must stay in the template (rolled back)
        cursor.execute(
            f"INSERT INTO {ident(TEMPLATE)}.procurement_vendor "  # noqa: S608
            "(name, name_ar, email, phone, vat_number, cr_number, category, status, currency, "
            "created_at, updated_at) "
            "VALUES ('Template Vendor', '', '', '', '', '', '', 'active', 'SAR', now(), now())"
        )
        cursor.execute(
            f"INSERT INTO {ident(TEMPLATE)}.auth_user (password, is_superuser, username, "  # noqa: S608
            "first_name, last_name, email, is_staff, is_active, date_joined) "
            "VALUES ('', false, 'template-user', '', '', '', false, true, now())"
        )
    migrated_schema("t_replayed")
    clone_schema(TEMPLATE, "t_cloned")

    cloned, replayed = catalog("t_cloned"), catalog("t_replayed")
    for part in CATALOG:
        assert differences(cloned[part], replayed[part]) == ([], []), part
    foreign_keys = [c for c in cloned["constraints"] if c[2] == "f"]
    assert foreign_keys and {fk[6] for fk in foreign_keys} == {"<schema>"}
    owned = [s for s in cloned["sequences"] if s[9] == "<schema>" and s[12] in ("a", "i")]
    assert len(owned) == len(cloned["sequences"])  # every sequence owned by a cloned column
    fresh = {s[0]: s[8] for s in cloned["sequences"]}
    assert fresh["procurement_vendor_id_seq"] is None and fresh["auth_user_id_seq"] is None
    assert fresh["django_content_type_id_seq"] == len(rows(TEMPLATE)["django_content_type"])

    assert rows("t_cloned") == rows("t_replayed")
    assert rows("t_cloned")["procurement_vendor"] == []
    assert rows("t_cloned")["auth_user"] == []
    assert len(rows("t_cloned")["django_migrations"]) >= 26
    assert len(rows(TEMPLATE)["procurement_vendor"]) == 1  # the template kept its own row


def test_cloned_tenant_gets_ids_of_its_own_and_serves_the_api(db, api):
    tenant = tenant_create(
        slug="cloned", name="Cloned", domains=["cloned.localhost"], plan="professional"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO t_cloned.procurement_department (name, name_ar, code, created_at, "
            "updated_at) VALUES ('Ops', '', 'OPS', now(), now()) RETURNING id"
        )
        assert cursor.fetchone()[0] == 1
        cursor.execute(f"SELECT count(*) FROM {ident(TEMPLATE)}.procurement_department")  # noqa: S608
        assert cursor.fetchone()[0] == 0
    token = issue_token(tenant, ["read"])
    response = api("cloned.localhost", token).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["data"]["tenant_id"] == "cloned"


def test_a_failure_midway_through_the_copy_leaves_no_schema_row_or_domain(db, monkeypatch):
    tenant_create(slug="warmup", name="Warm", domains=["warm.localhost"], plan="professional")
    (key,) = [k for k in schema_clone.scripts if k[0] == TEMPLATE]
    # The copy's tables exist when this statement fails: all of it must go.
    monkeypatch.setitem(schema_clone.scripts, key, schema_clone.scripts[key] + ";\nSELECT 1/0")
    tenants, domains = Tenant.objects.count(), Domain.objects.count()
    with pytest.raises(Exception, match="division by zero"):
        tenant_create(slug="halfway", name="Half", domains=["half.localhost"], plan="professional")
    connection.set_schema_to_public()
    assert (Tenant.objects.count(), Domain.objects.count()) == (tenants, domains)
    assert not schema_exists("t_halfway")
