"""The one signal business services send when a resource changes; subscribers (webhooks) listen.

``occurred.send(sender=<model class>, type="purchase_order.approved", resource=<instance>)`` is
sent inside the change's transaction, after the change and its audit event are written: what a
receiver writes (a webhook delivery and its job) commits or rolls back with the change. Event
types are ``<resource>.<past verb>``; ``EVENT_TYPES`` lists every one a service sends.
"""

from __future__ import annotations

from django.dispatch import Signal

occurred = Signal()

EVENT_TYPES = (
    "purchase_order.created",
    "purchase_order.updated",
    "purchase_order.submitted",
    "purchase_order.approved",
    "purchase_order.rejected",
    "purchase_order.cancelled",
    "purchase_order.completed",
    "vendor.created",
    "vendor.updated",
    "department.created",
    "department.updated",
    "token.created",
    "token.revoked",
    "token.regenerated",
    # Sent once per deadline by the daily reminders job (tokens/reminders.py): the token
    # expires, or stops working unused, within WAQTI_TOKEN_REMINDER_DAYS.
    "token.expiring",
)
