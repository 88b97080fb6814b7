"""Tokens issued before checksums keep working: record, on this schema's tenant, the first token
id that will carry a checksummed secret (the highest id now + 1).

Runs in each tenant schema (tokens is a tenant app), after the public schema gained the field
(tenancy 0003). A schema created later runs it on an empty table: 1, the field's default. A token
created by a server still running the previous code after this migration has no checksum and is
refused until regenerated (README, "Token format").
"""

from django.db import migrations
from django.db.models import Max


def record_first_checksummed_token_id(apps, schema_editor):
    ApiToken = apps.get_model("tokens", "ApiToken")
    Tenant = apps.get_model("tenancy", "Tenant")
    highest = ApiToken.objects.aggregate(highest=Max("id"))["highest"] or 0
    Tenant.objects.filter(schema_name=schema_editor.connection.schema_name).update(
        first_checksummed_token_id=highest + 1
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0004_token_allowed_ips"),
        ("tenancy", "0004_tenant_token_checksum"),
    ]
    operations = [
        migrations.RunPython(record_first_checksummed_token_id, migrations.RunPython.noop),
    ]
