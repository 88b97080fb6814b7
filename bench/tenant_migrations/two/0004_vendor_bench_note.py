"""Additive again: a second nullable column, in a migration of its own."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("procurement", "0003_vendor_bench_flag")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE procurement_vendor ADD COLUMN bench_note text NULL",
            "ALTER TABLE procurement_vendor DROP COLUMN bench_note",
        )
    ]
