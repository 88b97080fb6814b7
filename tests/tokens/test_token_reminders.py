"""Reminder emails to tenant admins and the expire-unused sweep (``tokens/reminders.py``), run as
the daily ``tokens.token_reminders`` job does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from tests.helpers import issue_token
from tokens import reminders, tasks
from tokens.models import ApiToken, TokenEvent, TokenPolicy
from tokens.settings_ui.accounts import tenant_admin_create

NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


def token(tenant: Any, name: str, **fields: Any) -> int:
    """A token whose columns are then set to ``fields`` (created_at, expires_at, ...)."""
    token_id = int(issue_token(tenant, ["read"], name=name).split("|")[0])
    with tenant_context(tenant):
        ApiToken.objects.filter(pk=token_id).update(**{"created_at": NOW, **fields})
    connection.set_schema_to_public()
    return token_id


def in_tenant(tenant: Any, fn: Any) -> Any:
    with tenant_context(tenant):
        result = fn()
    connection.set_schema_to_public()
    return result


def events(tenant: Any, kind: str) -> list[tuple[int, dict]]:
    return in_tenant(
        tenant,
        lambda: list(
            TokenEvent.objects.filter(kind=kind)
            .order_by("token_id")
            .values_list("token_id", "changes")
        ),
    )


def unused_policy(tenant: Any, days: int) -> None:
    in_tenant(
        tenant,
        lambda: TokenPolicy.objects.update_or_create(
            pk=TokenPolicy.SINGLETON_ID, defaults={"expire_unused_after_days": days}
        ),
    )


@pytest.fixture
def admins(acme: Any) -> list[str]:
    emails = ["cfo@acme.example", "it@acme.example"]
    for email in emails:
        in_tenant(acme, lambda email=email: tenant_admin_create(email=email, password="x" * 12))
    return emails


def test_admins_get_one_email_listing_what_falls_due_once(acme, admins, mailoutbox):
    unused_policy(acme, 30)
    expiring = token(acme, "Expiring", expires_at=NOW + timedelta(days=3))
    rotating = token(
        acme, "Rotating", created_at=NOW - timedelta(days=85), last_used_at=NOW - timedelta(days=1)
    )  # due for rotation at 90 days
    idle = token(acme, "Idle", last_used_at=NOW - timedelta(days=25))  # stops at 30
    token(acme, "Later", expires_at=NOW + timedelta(days=10), last_used_at=NOW)
    token(acme, "Revoked", revoked_at=NOW - timedelta(days=1), expires_at=NOW + timedelta(days=2))
    token(acme, "Expired", expires_at=NOW - timedelta(hours=1))

    assert in_tenant(acme, lambda: reminders.remind(NOW, 7)) == 3
    (mail,) = mailoutbox
    assert mail.to == admins and mail.subject == "Waqti: 3 API token reminders"
    assert f"#{expiring} \u201cExpiring\u201d expires on 2026-06-04 06:00 UTC" in mail.body
    assert f"#{rotating} \u201cRotating\u201d is due for rotation" in mail.body
    assert f"#{idle} \u201cIdle\u201d stops working unless used" in mail.body
    for absent in ("Later", "Revoked", "Expired"):
        assert absent not in mail.body
    assert [(token_id, changes["what"]) for token_id, changes in events(acme, "reminded")] == [
        (expiring, "expires"),
        (rotating, "rotation"),
        (idle, "unused"),
    ]

    assert in_tenant(acme, lambda: reminders.remind(NOW + timedelta(days=1), 7)) == 0
    assert len(mailoutbox) == 1  # each (token, what, when) once


def test_a_token_used_again_is_reminded_of_its_new_deadline(acme, admins, mailoutbox):
    unused_policy(acme, 30)
    idle = token(acme, "Idle", last_used_at=NOW - timedelta(days=25))
    assert in_tenant(acme, lambda: reminders.remind(NOW, 7)) == 1
    later = NOW + timedelta(days=23)
    in_tenant(acme, lambda: ApiToken.objects.filter(pk=idle).update(last_used_at=later))
    assert in_tenant(acme, lambda: reminders.remind(later + timedelta(days=25), 7)) == 1
    assert len(mailoutbox) == 2


def test_without_admins_nothing_is_emailed_but_the_reminder_is_recorded_once(
    acme, mailoutbox, caplog
):
    expiring = token(acme, "Expiring", expires_at=NOW + timedelta(days=1))
    assert in_tenant(acme, lambda: reminders.remind(NOW, 7)) == 1
    assert mailoutbox == []
    assert "the tenant has no admin with an email" in caplog.text
    ((token_id, changes),) = events(acme, "reminded")
    assert token_id == expiring and changes["emailed"] == 0
    assert in_tenant(acme, lambda: reminders.remind(NOW, 7)) == 0


def test_the_sweep_records_a_policy_expiry_once(acme):
    unused_policy(acme, 30)
    idle = token(acme, "Idle", last_used_at=NOW - timedelta(days=40))
    token(acme, "Active", last_used_at=NOW - timedelta(days=2))
    token(acme, "Dated", expires_at=NOW - timedelta(days=1), last_used_at=NOW - timedelta(days=40))
    assert in_tenant(acme, lambda: reminders.sweep_unused(NOW)) == 1
    assert events(acme, "expired") == [
        (idle, {"reason": "unused for 30 days", "at": (NOW - timedelta(days=10)).isoformat()})
    ]
    assert in_tenant(acme, lambda: reminders.sweep_unused(NOW + timedelta(days=1))) == 0


def test_the_sweep_does_nothing_without_an_unused_policy(acme):
    token(acme, "Idle", last_used_at=NOW - timedelta(days=400))
    assert in_tenant(acme, lambda: reminders.sweep_unused(NOW)) == 0


def test_the_daily_job_serves_every_tenant(acme, globex, admins, mailoutbox):
    token(acme, "Acme expiring", expires_at=NOW + timedelta(days=2))
    token(globex, "Globex expiring", expires_at=NOW + timedelta(days=2))
    in_tenant(globex, lambda: tenant_admin_create(email="ops@globex.example", password="x" * 12))
    assert tasks.token_reminders(int(NOW.timestamp())) == 2
    assert sorted(tuple(mail.to) for mail in mailoutbox) == [
        tuple(admins),
        ("ops@globex.example",),
    ]
    assert connection.schema_name == "public"


def test_the_tokens_history_page_shows_the_reminder_and_the_expiry(acme, mailoutbox):
    from tests.tokens.settings_helpers import admin_browser, page

    browser = admin_browser(acme)
    unused_policy(acme, 30)
    idle = token(acme, "Idle", last_used_at=NOW - timedelta(days=25))
    assert in_tenant(acme, lambda: reminders.remind(NOW, 7)) == 1
    assert in_tenant(acme, lambda: reminders.sweep_unused(NOW + timedelta(days=6))) == 1
    shown = page(browser, "get", f"/settings/api/tokens/{idle}/activity/")
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "Reminder sent" in html and "Expired (token policy)" in html
    assert "unused for 30 days" in html and "<code>what</code>" in html
