"""``IdempotencyKey`` belongs to the API layer (``waqti.api``) but keeps procurement's table.

The model moved in migration state only: a database migrated before the move keeps its keys,
and one built after it has the same table, under the same name, seen through the new model.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import tenant_context

from waqti.api.models import IdempotencyKey

TABLE = "procurement_idempotencykey"
BEFORE_THE_MOVE = [("procurement", "0001_initial"), ("api", None)]


def test_idempotency_key_is_the_api_app_s_model_on_the_old_table(clients, acme):
    created = clients["write"].post(
        "/api/v1/departments", {"name": "Finance", "code": "FIN"}, headers={"Idempotency-Key": "k"}
    )
    assert created.status_code == 201
    assert IdempotencyKey._meta.app_label == "api"
    assert IdempotencyKey._meta.db_table == TABLE
    with tenant_context(acme):
        assert TABLE in connection.introspection.table_names()
        record = IdempotencyKey.objects.get(key="k")
        assert record.status_code == 201
        assert ContentType.objects.get_for_model(IdempotencyKey).app_label == "api"
        assert not ContentType.objects.filter(app_label="procurement", model="idempotencykey")
        state = MigrationExecutor(connection).loader.project_state()
    connection.set_schema_to_public()
    assert ("api", "idempotencykey") in state.models
    assert ("procurement", "idempotencykey") not in state.models


def test_migrating_a_tenant_across_the_move_keeps_its_keys(acme):
    """A schema as it was before the move, with a key in it, migrated forward: same rows."""
    with tenant_context(acme):
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE_THE_MOVE)
        old_apps = executor.loader.project_state(BEFORE_THE_MOVE[0]).apps
        old_key_model = old_apps.get_model("procurement", "IdempotencyKey")
        old = old_key_model.objects.create(
            key="before-the-move",
            fingerprint="f" * 64,
            status_code=201,
            response_body="{}",
            created_at="2026-01-01T00:00:00Z",
        )
        assert ContentType.objects.filter(app_label="procurement", model="idempotencykey")

        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())  # what `migrate` does after a deploy
        moved = IdempotencyKey.objects.get(key="before-the-move")
        assert (moved.pk, moved.status_code, moved.response_body) == (old.pk, 201, "{}")
        assert IdempotencyKey.objects.count() == 1
        assert ContentType.objects.get_for_model(IdempotencyKey).app_label == "api"
        assert not ContentType.objects.filter(app_label="procurement", model="idempotencykey")
        fresh = MigrationExecutor(connection)
        assert not fresh.migration_plan(fresh.loader.graph.leaf_nodes())
    connection.set_schema_to_public()
