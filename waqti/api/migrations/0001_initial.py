"""``IdempotencyKey`` moves here from ``procurement``: in migration state only.

Its table, ``procurement_idempotencykey``, was created by ``procurement.0001_initial`` (on a
fresh database too) and stays as it is, rows included; ``procurement.0002`` drops the model from
that app's state after this migration adds it here. The content type is renamed in place so the
model's permissions follow it, as they would be on a database built after the move.
"""

from django.db import migrations, models


def content_type_to_api(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType").objects.using(
        schema_editor.connection.alias
    )
    if not content_types.filter(app_label="api", model="idempotencykey").exists():
        content_types.filter(app_label="procurement", model="idempotencykey").update(
            app_label="api"
        )


def content_type_to_procurement(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType").objects.using(
        schema_editor.connection.alias
    )
    if not content_types.filter(app_label="procurement", model="idempotencykey").exists():
        content_types.filter(app_label="api", model="idempotencykey").update(
            app_label="procurement"
        )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("procurement", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyKey",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("key", models.CharField(max_length=255, unique=True)),
                        ("fingerprint", models.CharField(max_length=64)),
                        ("status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("response_body", models.TextField(blank=True, default="")),
                        ("created_at", models.DateTimeField(db_index=True)),
                    ],
                    options={"db_table": "procurement_idempotencykey"},
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_api, content_type_to_procurement),
    ]
