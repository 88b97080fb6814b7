"""The demo tenant: ``manage.py seed_demo`` (used by ``make run``); no models of its own."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = "Demo tenant"
