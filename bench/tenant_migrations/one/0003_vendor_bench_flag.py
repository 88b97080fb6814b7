"""Additive: a nullable column on every tenant's vendors (no rewrite, no long lock)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("procurement", "0002_idempotencykey_moved_to_api")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE procurement_vendor ADD COLUMN bench_flag boolean NULL",
            "ALTER TABLE procurement_vendor DROP COLUMN bench_flag",
        )
    ]
