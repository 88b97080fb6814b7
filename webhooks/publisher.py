"""Domain events (``waqti.domain_events``) become deliveries for the subscriptions that want them.

Sent by procurement (purchase orders, vendors, departments) and tokens (created, regenerated,
revoked; expiring from the daily reminders).

Runs in the transaction of the change (module ``webhooks.delivery``). With no subscription for
the event it costs one query; with some, the resource is rendered once, as the API shows it
(``RENDERERS``), into ``{"type", "timestamp", "data"}``, and each subscription gets a delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.utils import timezone

from procurement.list_rows import orders_data
from procurement.models import Department, PurchaseOrder, Vendor
from procurement.serializers import DepartmentSerializer, VendorSerializer
from tokens.models import ApiToken
from tokens.serializers import TokenSerializer
from tokens.services import token_policy_rules
from waqti.domain_events import occurred
from webhooks import delivery
from webhooks.models import Subscription


def _order(order: PurchaseOrder) -> dict[str, Any]:
    """The order as the API shows it, from rows (``procurement.list_rows``: the same JSON as
    ``PurchaseOrderSerializer``, for a third of the CPU), lines included."""
    (data,) = orders_data([order.pk])
    return data


def _token(token: ApiToken) -> dict[str, Any]:
    context = {"rules": token_policy_rules(), "now": timezone.now()}  # as GET /tokens/{id}
    return TokenSerializer(token, context=context).data


RENDERERS: dict[type, Callable[[Any], dict[str, Any]]] = {
    ApiToken: _token,
    PurchaseOrder: _order,
    Vendor: lambda vendor: VendorSerializer(vendor).data,
    Department: lambda department: DepartmentSerializer(department).data,
}


def on_event(sender: type, *, type: str, resource: Any, **_: Any) -> None:
    if connection.schema_name == "public":
        return
    subscriptions = list(Subscription.objects.filter(is_active=True, events__contains=[type]))
    if not subscriptions:
        return
    body = delivery.event_body(type, RENDERERS[sender](resource))
    message_id = delivery.new_message_id()
    for subscription in subscriptions:
        delivery.enqueue(subscription, type, body, message_id)


def connect() -> None:
    occurred.connect(on_event, dispatch_uid="webhooks.publisher")
