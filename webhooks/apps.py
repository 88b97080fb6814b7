"""Outbound webhooks: subscriptions, signed deliveries on the job queue, their log."""

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from webhooks import publisher  # connects the domain-event receiver

        publisher.connect()
