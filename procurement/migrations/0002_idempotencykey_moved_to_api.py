"""``IdempotencyKey`` now belongs to the API layer (``waqti.api``, label ``api``).

State only: the table ``procurement_idempotencykey`` and its rows stay where they are, and
``api.0001_initial`` (a dependency, so it runs first) now maps its model onto them.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("procurement", "0001_initial"),
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="IdempotencyKey")],
            database_operations=[],
        ),
    ]
