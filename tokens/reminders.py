"""Reminders to a tenant's admins, and the token policy's expire-unused sweep (a daily job).

In the current tenant, for the live (not revoked) tokens:

* **reminders**: a token that expires (``expires_at``), stops working for want of use (the
  policy's ``expire_unused_after_days``) or falls due for rotation (``rotation_days``) within
  ``WAQTI_TOKEN_REMINDER_DAYS`` is listed in one email to the tenant admins (Django's mail
  framework: the console backend unless ``DJANGO_EMAIL_BACKEND`` names another). Each
  (token, what, when) is reminded once: a ``reminded`` token event records it (and how many
  admins were emailed), so a token used
  again (a new unused deadline) or regenerated (a new rotation date) is reminded again later.
* **sweep**: a token whose unused deadline has passed stops authenticating at once (the policy
  is applied on every request); the sweep records it, once, as an ``expired`` token event by the
  policy, so the token's history says when and why.

A tenant without admins gets no email (logged); its reminders are recorded all the same, and a
token about to stop working is announced as ``token.expiring`` (webhooks) either way. The email
is sent before the events are written: a failure to send records nothing, and the job is retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection, transaction

from tokens.models import ApiToken, TokenEvent
from tokens.services import token_policy_rules
from tokens.settings_ui.accounts import is_tenant_admin
from waqti.domain_events import occurred

logger = logging.getLogger(__name__)

SYSTEM = "system: token policy"
EXPIRING = frozenset({"expires", "unused"})  # the token stops working (token.expiring)
WHAT = {
    "expires": "expires",
    "unused": "stops working unless used (token policy: unused tokens expire)",
    "rotation": "is due for rotation (regenerate its secret)",
}


@dataclass(frozen=True)
class Due:
    token: ApiToken
    what: str  # a key of WHAT
    at: datetime

    @property
    def key(self) -> dict[str, str]:
        """How the ``reminded`` event records it (and how a repeat is recognised)."""
        return {"what": self.what, "at": self.at.isoformat()}


def due(now: datetime, days: int) -> list[Due]:
    """What falls due within ``days`` of ``now`` for the live tokens, not yet reminded."""
    rules = token_policy_rules()
    horizon = now + timedelta(days=days)
    found: list[Due] = []
    for token in ApiToken.objects.filter(revoked_at=None).order_by("id"):
        if token.is_expired(now) or rules.unused_expired(token.last_used_at, token.created_at, now):
            continue  # no longer usable: nothing to remind
        unused = rules.unused_deadline(token.last_used_at, token.created_at)
        rotation = rules.rotation_due_at(token.created_at, token.regenerated_at)
        for what, at in (("expires", token.expires_at), ("unused", unused), ("rotation", rotation)):
            if at is not None and now < at <= horizon:
                found.append(Due(token, what, at))
    reminded = {
        (event.token_id, event.changes.get("what"), event.changes.get("at"))
        for event in TokenEvent.objects.filter(
            kind=TokenEvent.Kind.REMINDED, token_id__in={d.token.pk for d in found}
        )
    }
    return [d for d in found if (d.token.pk, d.what, d.key["at"]) not in reminded]


def admin_emails() -> list[str]:
    users = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    return sorted(user.email for user in users if is_tenant_admin(user))


def message(dues: list[Due]) -> tuple[str, str]:
    subject = f"Waqti: {len(dues)} API token reminder{'s' if len(dues) != 1 else ''}"
    lines = [
        f"- #{d.token.pk} \u201c{d.token.name}\u201d {WHAT[d.what]} on "
        f"{d.at.strftime('%Y-%m-%d %H:%M UTC')}"
        for d in dues
    ]
    body = "\n".join(
        [
            "These API tokens of your organisation need attention soon:",
            "",
            *lines,
            "",
            "Manage them in Settings > API tokens.",
        ]
    )
    return subject, body


def remind(now: datetime, days: int) -> int:
    """Remind of what falls due within ``days``: one email to the tenant admins, a ``reminded``
    event per item and, for a token about to stop working, a ``token.expiring`` domain event
    (webhooks). Returns how many items."""
    dues = due(now, days)
    if not dues:
        return 0
    recipients = admin_emails()
    if recipients:
        subject, body = message(dues)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    else:
        logger.warning(
            "token reminders: %d due in %s, but the tenant has no admin with an email",
            len(dues),
            connection.schema_name,
        )
    with transaction.atomic():
        TokenEvent.objects.bulk_create(
            TokenEvent(
                token=d.token,
                kind=TokenEvent.Kind.REMINDED,
                actor_label=SYSTEM,
                changes={**d.key, "emailed": len(recipients)},
            )
            for d in dues
        )
        for d in dues:
            if d.what in EXPIRING:
                occurred.send(sender=ApiToken, type="token.expiring", resource=d.token)
    return len(dues)


def sweep_unused(now: datetime) -> int:
    """Record, once, each live token the policy has expired for want of use; returns how many."""
    rules = token_policy_rules()
    if rules.expire_unused_after_days is None:
        return 0
    swept = set(
        TokenEvent.objects.filter(kind=TokenEvent.Kind.EXPIRED).values_list("token_id", flat=True)
    )
    events = []
    for token in ApiToken.objects.filter(revoked_at=None).exclude(pk__in=swept):
        if token.is_expired(now):
            continue  # expired by its own date: not the policy's doing
        if rules.unused_expired(token.last_used_at, token.created_at, now):
            deadline = rules.unused_deadline(token.last_used_at, token.created_at)
            events.append(
                TokenEvent(
                    token=token,
                    kind=TokenEvent.Kind.EXPIRED,
                    actor_label=SYSTEM,
                    changes={
                        "reason": f"unused for {rules.expire_unused_after_days} days",
                        "at": deadline.isoformat() if deadline else None,
                    },
                )
            )
    TokenEvent.objects.bulk_create(events)
    return len(events)
