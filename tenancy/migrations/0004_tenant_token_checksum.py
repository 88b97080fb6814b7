"""Tenant.first_checksummed_token_id: 1 for every tenant here; each tenant schema's own tokens
migration (tokens 0005_token_checksum_boundary) then raises it above the tokens it already has."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0003_schemas_behind")]
    operations = [
        migrations.AddField(
            model_name="tenant",
            name="first_checksummed_token_id",
            field=models.BigIntegerField(default=1, editable=False),
        ),
    ]
