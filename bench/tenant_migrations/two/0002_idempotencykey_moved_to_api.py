"""procurement's own migration, unchanged."""

from importlib import import_module

Migration = import_module("procurement.migrations.0002_idempotencykey_moved_to_api").Migration
