"""The API layer as a tenant app: it owns the tables of the plumbing every endpoint shares."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "waqti.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        # drf-spectacular finds extensions when their module is imported; its docs ask for it
        # here, before any schema is generated.
        from waqti.api import schema_extensions  # noqa: F401
