"""procurement's own migration, unchanged."""

from importlib import import_module

Migration = import_module("procurement.migrations.0001_initial").Migration
