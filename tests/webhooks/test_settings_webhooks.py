"""Settings -> Webhooks with Django's test client: add (secret shown once), enable/disable,
delete, refusals; the browser test is in tests/e2e/test_settings_browser.py."""

from __future__ import annotations

from typing import Any

import pytest
from django_tenants.utils import tenant_context

from tests.tokens.settings_helpers import (
    admin_browser,
    browser,
    log_in,
    make_user,
    page,
)
from webhooks.models import Subscription

FORM = {
    "name": "SAP approvals",
    "url": "https://erp.example.com/waqti",
    "events": ["purchase_order.approved"],
}


def subscriptions(tenant: Any) -> list[Subscription]:
    with tenant_context(tenant):
        return list(Subscription.objects.all())


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(acme):
    client = admin_browser(acme)
    assert page(client, "get", "/settings/webhooks/").status_code == 200
    created = page(client, "post", "/settings/webhooks/new/", FORM)
    assert created.status_code == 302
    (subscription,) = subscriptions(acme)
    assert (subscription.name, subscription.events) == (
        "SAP approvals",
        ["purchase_order.approved"],
    )
    shown = page(client, "get", created["Location"])
    assert subscription.secret in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    again = page(client, "get", created["Location"])
    assert subscription.secret not in again.content.decode()
    assert "already shown once" in again.content.decode()
    listed = page(client, "get", "/settings/webhooks/").content.decode()
    assert "SAP approvals" in listed and subscription.secret not in listed


def test_an_admin_disables_enables_and_deletes_a_webhook(acme):
    client = admin_browser(acme)
    page(client, "post", "/settings/webhooks/new/", FORM)
    (subscription,) = subscriptions(acme)
    toggle = f"/settings/webhooks/{subscription.pk}/toggle/"
    assert page(client, "post", toggle).status_code == 302
    assert subscriptions(acme)[0].is_active is False
    page(client, "post", toggle)
    assert subscriptions(acme)[0].is_active is True
    assert page(client, "get", toggle).status_code == 405  # a change is a POST
    delete = f"/settings/webhooks/{subscription.pk}/delete/"
    assert "Delete “SAP approvals”?" in page(client, "get", delete).content.decode()
    assert page(client, "post", delete).status_code == 302
    assert subscriptions(acme) == []
    assert page(client, "get", delete).status_code == 404


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"url": "http://erp.example.com/waqti"}, "Only https:// URLs can receive webhooks."),
        ({"url": "https://10.0.0.7/waqti"}, "Webhooks cannot be delivered to this address."),
        ({"events": []}, "Choose at least one event."),
        ({"events": ["po.paid"]}, "Select a valid choice."),
    ],
)
def test_bad_webhooks_are_refused_with_the_apis_rules(acme, changes, message):
    client = admin_browser(acme)
    refused = page(client, "post", "/settings/webhooks/new/", {**FORM, **changes})
    assert refused.status_code == 422
    assert message in refused.content.decode()
    assert subscriptions(acme) == []


def test_only_tenant_admins_reach_the_pages(acme):
    make_user(acme, "clerk@acme.example", admin=False)
    clerk = browser()
    log_in(clerk, email="clerk@acme.example")
    assert page(clerk, "get", "/settings/webhooks/").status_code == 403
    assert page(clerk, "post", "/settings/webhooks/new/", FORM).status_code == 403
    anonymous = page(browser(), "get", "/settings/webhooks/")
    assert anonymous.status_code == 302 and "/settings/login/" in anonymous["Location"]
    assert subscriptions(acme) == []


def test_the_pages_follow_the_admins_language(acme):
    client = admin_browser(acme)
    client.cookies["django_language"] = "ar"
    listed = page(client, "get", "/settings/webhooks/").content.decode()
    assert 'dir="rtl"' in listed and "خطافات الويب" in listed and "Add webhook" not in listed
    refused = page(client, "post", "/settings/webhooks/new/", {**FORM, "url": "http://x.example"})
    assert "لا تستقبل خطافات الويب إلا عناوين https://." in refused.content.decode()
