"""Settings -> Webhooks: the tenant admins' pages for subscriptions (session login, CSRF).

The same rules as the API (``webhooks.services``). A new subscription's signing secret is shown
once: the create POST leaves a one-time mark in the admin's session, and the "created" page
shows the secret only while the mark is there (it removes it), with ``no-store``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tokens.settings_ui.views import admin_required
from waqti.domain_events import EVENT_TYPES
from webhooks import services
from webhooks.models import Delivery, Subscription

SHOWN_ONCE = "webhooks.secret-to-show"  # session key: the id whose secret may be shown once
RECENT_DELIVERIES = 20


class SubscriptionForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy('What receives the events, e.g. "SAP approvals".'),
    )
    url = forms.URLField(
        label=gettext_lazy("Receiver URL"),
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy("An https:// address of your ERP that accepts POST requests."),
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=[(event, event) for event in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one event.")},
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        problem = services.url_problem(url)
        if problem:
            raise forms.ValidationError(problem)
        return url


def _page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> TemplateResponse:
    return TemplateResponse(request, f"webhooks/settings/{template}", context or {}, status=status)


def _subscription(subscription_id: int) -> Subscription | None:
    return Subscription.objects.filter(pk=subscription_id).first()


def _not_found(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "tokens/settings/not_found.html", status=404)


@admin_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    subscriptions = list(Subscription.objects.all())
    recent = Delivery.objects.select_related("subscription")[:RECENT_DELIVERIES]
    return _page(
        request, "webhook_list.html", {"subscriptions": subscriptions, "deliveries": recent}
    )


@admin_required
@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest) -> HttpResponse:
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        subscription = services.subscription_create(**form.cleaned_data)
        request.session[SHOWN_ONCE] = subscription.pk
        return redirect("settings-webhook-created", subscription_id=subscription.pk)
    status = 422 if request.method == "POST" else 200
    return _page(request, "webhook_create.html", {"form": form}, status=status)


@admin_required
def webhook_created(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(subscription_id)
    if subscription is None:
        return _not_found(request)
    show = request.session.get(SHOWN_ONCE) == subscription.pk
    if show:
        del request.session[SHOWN_ONCE]
    return _page(
        request,
        "webhook_created.html",
        {"subscription": subscription, "secret": subscription.secret if show else None},
    )


@admin_required
@require_POST
def webhook_toggle(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(subscription_id)
    if subscription is None:
        return _not_found(request)
    services.subscription_update(subscription=subscription, is_active=not subscription.is_active)
    text = (
        _("The webhook “%(name)s” was enabled.")
        if subscription.is_active
        else _("The webhook “%(name)s” was disabled.")
    )
    messages.success(request, text % {"name": subscription.name})
    return redirect("settings-webhooks")


@admin_required
@require_http_methods(["GET", "POST"])
def webhook_delete(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(subscription_id)
    if subscription is None:
        return _not_found(request)
    if request.method == "POST":
        subscription.delete()
        messages.success(
            request, _("The webhook “%(name)s” was deleted.") % {"name": subscription.name}
        )
        return redirect("settings-webhooks")
    return _page(request, "webhook_delete.html", {"subscription": subscription})
