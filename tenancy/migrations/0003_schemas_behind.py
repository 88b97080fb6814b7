"""public.waqti_schemas_behind(schemas, expected): which schemas lack which migrations.

`manage.py migrate` calls it once per run (tenancy/migration_plan.py). PL/pgSQL, because reading
a table in each of a thousand schemas needs dynamic SQL, and PostgreSQL's only dynamic SQL
without it (query_to_xml) is missing from servers built without libxml, the embedded one among
them. Runs in the public schema only (tenancy is a shared app).
"""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION public.waqti_schemas_behind(schemas text[], expected text[])
RETURNS TABLE (schema_name text, missing text[])
LANGUAGE plpgsql STABLE AS $$
DECLARE
    applied text[];
BEGIN
    FOREACH schema_name IN ARRAY schemas LOOP
        IF to_regclass(format('%I.django_migrations', schema_name)) IS NULL THEN
            missing := expected;
        ELSE
            EXECUTE format('SELECT array_agg(app || ''.'' || name) FROM %I.django_migrations',
                           schema_name) INTO applied;
            missing := ARRAY(SELECT unnest(expected) EXCEPT SELECT unnest(applied));
        END IF;
        IF cardinality(missing) > 0 THEN
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$
"""

DROP = "DROP FUNCTION IF EXISTS public.waqti_schemas_behind(text[], text[])"


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0002_public_tenant")]
    operations = [migrations.RunSQL(CREATE, DROP)]
