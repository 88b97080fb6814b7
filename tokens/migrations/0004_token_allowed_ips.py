"""Per-token IP allowlist (``ApiToken.allowed_ips``, a ``cidr[]``: the database itself refuses a
malformed network or host bits set, and stores one spelling per range) and the before/after of
"updated" token events (``TokenEvent.changes``)."""

from django.contrib.postgres.fields import ArrayField
from django.db import migrations, models

import tokens.models


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0003_tenant_admins_not_superusers"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="allowed_ips",
            field=ArrayField(base_field=tokens.models.CidrField(), blank=True, default=list, size=None),
        ),
        migrations.AddField(
            model_name="tokenevent",
            name="changes",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name="tokenevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Created"),
                    ("regenerated", "Regenerated"),
                    ("revoked", "Revoked"),
                    ("updated", "Updated"),
                ],
                max_length=16,
            ),
        ),
    ]
