"""Routes of the Settings -> Webhooks pages (tenant hosts)."""

from django.urls import path

from webhooks import settings_ui

urlpatterns = [
    path("settings/webhooks/", settings_ui.webhook_list, name="settings-webhooks"),
    path("settings/webhooks/new/", settings_ui.webhook_create, name="settings-webhook-create"),
    path(
        "settings/webhooks/<int:subscription_id>/created/",
        settings_ui.webhook_created,
        name="settings-webhook-created",
    ),
    path(
        "settings/webhooks/<int:subscription_id>/toggle/",
        settings_ui.webhook_toggle,
        name="settings-webhook-toggle",
    ),
    path(
        "settings/webhooks/<int:subscription_id>/delete/",
        settings_ui.webhook_delete,
        name="settings-webhook-delete",
    ),
]
