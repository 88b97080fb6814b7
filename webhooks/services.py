"""Subscriptions as the API and the Settings pages change them: one set of rules for both."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.utils.translation import gettext as _

from waqti.domain_events import EVENT_TYPES
from webhooks import delivery, transport
from webhooks.models import Subscription

FIELDS = ("name", "url", "events", "is_active")


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot receive webhooks, judged without DNS, or None. A host name is
    resolved and checked again at every delivery (``webhooks.transport``)."""
    try:
        _scheme, host, _port = transport.check_url(url)
    except transport.Refused as exc:
        return str(exc)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not transport.allowed_address(str(address)):
        return _("Webhooks cannot be delivered to this address.")
    return None


def ordered_events(events: list[str]) -> list[str]:
    """``events`` without repeats, in the order of ``EVENT_TYPES``."""
    return sorted(set(events), key=EVENT_TYPES.index)


def subscription_create(
    *, name: str, url: str, events: list[str], is_active: bool = True
) -> Subscription:
    """A new subscription with a fresh signing secret (shown to the caller once)."""
    return Subscription.objects.create(
        name=name,
        url=url,
        events=ordered_events(events),
        is_active=is_active,
        secret=delivery.new_secret(),
    )


def subscription_update(*, subscription: Subscription, **changes: Any) -> Subscription:
    """Change any of ``FIELDS``; enabling a subscription again starts a fresh failure count."""
    for field, value in changes.items():
        if field not in FIELDS:
            raise TypeError(f"subscription_update() got an unexpected field {field!r}")
        setattr(subscription, field, ordered_events(value) if field == "events" else value)
    if changes.get("is_active"):
        subscription.failure_count = 0
    subscription.save()
    return subscription
