"""The API layer as a tenant app: it owns the tables of the plumbing every endpoint shares."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "waqti.api"
    label = "api"
    verbose_name = "API"
