"""Webhook tests build procurement data with the procurement tests' builders."""

from tests.procurement.conftest import in_tenant, make  # noqa: F401 - fixtures
