"""Procurement: departments, vendors, purchase orders and their approval lifecycle."""

from django.apps import AppConfig


class ProcurementConfig(AppConfig):
    name = "procurement"
    verbose_name = "Procurement"
