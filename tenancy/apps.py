"""Tenant registry app (public schema)."""

from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from tenancy import signals  # noqa: F401  (connects cache invalidation)
