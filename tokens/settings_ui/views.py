"""Settings -> API Settings: server-rendered pages where tenant admins manage API tokens.

Session authentication with CSRF protection; only tenant admins (staff with the Settings
permissions, see tokens.settings_ui.accounts.is_tenant_admin) get past ``admin_required``. Login
attempts are counted before the password is checked (waqti.password_attempts). A token's
plaintext travels from the POST that created it to exactly one GET in a short-lived, signed,
HttpOnly cookie scoped to that token's "issued" page, which deletes it and is sent with no-store:
the plaintext is never written on the server (not even in the session table), and a redirect
never followed leaves it only in the admin's own browser for at most ISSUED_COOKIE_SECONDS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from tokens import services
from tokens.activity.log import events_for_token, recent_requests_for_token
from tokens.models import ApiToken, TokenEvent, TokenPolicyEvent
from tokens.policy import DEFAULT_RULES, EXPIRED_UNUSED, TokenRules
from tokens.settings_ui.accounts import is_tenant_admin
from tokens.settings_ui.forms import (
    SettingsLoginForm,
    TokenCreateForm,
    TokenEditForm,
    TokenPolicyForm,
    TokenRegenerateForm,
)
from waqti.client_ip import client_ip
from waqti.errors import InvalidInput
from waqti.password_attempts import refused

JUST_NOW = timedelta(minutes=1)
ISSUED_COOKIE = "waqti_issued_token_{token_id}"
ISSUED_COOKIE_SALT = "tokens.settings.issued"
ISSUED_COOKIE_SECONDS = 120
RECENT_REQUESTS_SHOWN = 50
POLICY_CHANGES_SHOWN = 20

View = Callable[..., HttpResponse]


def _page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> TemplateResponse:
    return TemplateResponse(request, f"tokens/settings/{template}", context or {}, status=status)


def admin_required(view: View) -> View:
    """Anonymous: redirect to login. Logged in but not a tenant admin: a 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if not is_tenant_admin(request.user):
            return _page(request, "forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


def _actor(request: HttpRequest) -> services.Actor:
    return services.Actor(user=request.user, ip_address=client_ip(request))


def _token_or_none(token_id: int, *, live_only: bool) -> ApiToken | None:
    tokens = ApiToken.objects.live() if live_only else ApiToken.objects.all()
    return tokens.filter(pk=token_id).first()


def _form_errors(form: forms.Form, error: InvalidInput) -> None:
    """Show a service's refusal (the token policy's) on the form's fields."""
    for field, field_messages in error.errors.items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)


def _not_found(request: HttpRequest) -> TemplateResponse:
    return _page(request, "not_found.html", status=404)


# --- Reads for the pages ---------------------------------------------------------------------


def token_status(token: ApiToken, now: datetime, rules: TokenRules = DEFAULT_RULES) -> str:
    """``revoked``, ``expired`` (its expiry passed), ``unused`` (expired for want of use under
    the token policy) or ``active``."""
    if token.is_revoked:
        return "revoked"
    reason = rules.expired_reason(token.expires_at, token.last_used_at, token.created_at, now)
    if reason == EXPIRED_UNUSED:
        return "unused"
    if reason is not None:
        return "expired"
    return "active"


def rotation_due(token: ApiToken, now: datetime, rules: TokenRules = DEFAULT_RULES) -> bool:
    """Active tokens whose secret (since created or last regenerated) reached the token policy's
    rotation age (the seed's advice: 90 days)."""
    due_at = rules.rotation_due_at(token.created_at, token.regenerated_at)
    return token_status(token, now, rules) == "active" and now > due_at


def _rows(tokens: list[ApiToken], now: datetime, rules: TokenRules) -> list[dict[str, Any]]:
    return [
        {
            "token": t,
            "status": token_status(t, now, rules),
            "rotation_due": rotation_due(t, now, rules),
            "withheld": rules.withheld(t.abilities),
            # timesince would say "0 minutes ago" for the first minute.
            "used_just_now": t.last_used_at is not None and now - t.last_used_at < JUST_NOW,
        }
        for t in tokens
    ]


# Events the system records (tokens/reminders.py): their changes are details (what, at, reason).
SYSTEM_EVENT_KINDS = frozenset({TokenEvent.Kind.REMINDED, TokenEvent.Kind.EXPIRED})


def _change_lines(changes: dict[str, Any]) -> list[tuple[str, str, str]]:
    """An event's ``changes`` as (field, before, after) texts; lists joined with commas."""

    def text(value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return "" if value is None else str(value)

    return [
        (name, text(change.get("before")), text(change.get("after")))
        for name, change in changes.items()
    ]


# --- Login / logout ----------------------------------------------------------------------------


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("settings-api")


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """E-mail and password; a refused attempt (over a limit) answers 429 with ``Retry-After``."""
    next_url = _safe_next(request)
    if request.method == "GET":
        if request.user.is_authenticated:
            return HttpResponseRedirect(next_url)
        return _page(request, "login.html", {"form": SettingsLoginForm(request), "next": next_url})

    form = SettingsLoginForm(request, data=request.POST)
    if form.is_valid():
        auth_login(request, form.get_user())
        return HttpResponseRedirect(next_url)
    return refused(_page(request, "login.html", {"form": form, "next": next_url}), form.refusal)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return redirect("settings-login")


def root_redirect(request: HttpRequest) -> HttpResponse:
    """``/`` and ``/settings/`` of a tenant host lead to the API Settings page (or the login)."""
    return redirect("settings-api")


# --- Token pages -------------------------------------------------------------------------------


@admin_required
def token_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    tokens = list(ApiToken.objects.all())
    rules = services.token_policy_rules()
    return _page(
        request,
        "token_list.html",
        {
            "rows": _rows(tokens, now, rules),
            "now": now,
            "rotation_days": rules.rotation_days,
            "rules": rules,
        },
    )


@admin_required
@require_http_methods(["GET", "POST"])
def token_policy(request: HttpRequest) -> HttpResponse:
    """The tenant's token policy, and who changed it when (newest first)."""
    rules = services.token_policy_rules()
    form = TokenPolicyForm(request.POST or None, initial=TokenPolicyForm.initial_for(rules))
    if request.method == "POST" and form.is_valid():
        services.token_policy_update(changes=form.changes(), actor=_actor(request))
        messages.success(request, _("The token policy was saved."))
        return redirect("settings-token-policy")
    status = 422 if request.method == "POST" else 200
    context = {
        "form": form,
        "changes": list(TokenPolicyEvent.objects.all()[:POLICY_CHANGES_SHOWN]),
        "changes_shown": POLICY_CHANGES_SHOWN,
    }
    return _page(request, "token_policy.html", context, status=status)


def _issued_path(token_id: int) -> str:
    return reverse("settings-token-issued", kwargs={"token_id": token_id})


def _redirect_with_issued(issued: services.IssuedToken, action: str) -> HttpResponse:
    """Redirect to the token's "issued" page, handing it the plaintext in a one-time cookie."""
    path = _issued_path(issued.token.pk)
    response = HttpResponseRedirect(path)
    response.set_signed_cookie(
        ISSUED_COOKIE.format(token_id=issued.token.pk),
        json.dumps({"token_id": issued.token.pk, "plaintext": issued.plaintext, "action": action}),
        salt=ISSUED_COOKIE_SALT,
        max_age=ISSUED_COOKIE_SECONDS,
        path=path,
        secure=not settings.DEBUG,
        httponly=True,
        samesite="Strict",
    )
    return response


@admin_required
@require_http_methods(["GET", "POST"])
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.token_create(**form.service_arguments(), actor=_actor(request))
        except InvalidInput as refused_by_policy:
            _form_errors(form, refused_by_policy)
        else:
            return _redirect_with_issued(issued, "created")
    status = 422 if request.method == "POST" else 200
    return _page(request, "token_create.html", {"form": form}, status=status)


@admin_required
def token_issued(request: HttpRequest, token_id: int) -> HttpResponse:
    """Shows the plaintext once: the one-time cookie is deleted by the first GET."""
    token = _token_or_none(token_id, live_only=False)
    if token is None:
        return _not_found(request)
    plaintext = None
    action = None
    cookie = ISSUED_COOKIE.format(token_id=token.pk)
    raw = request.get_signed_cookie(
        cookie, default=None, salt=ISSUED_COOKIE_SALT, max_age=ISSUED_COOKIE_SECONDS
    )
    issued = json.loads(raw) if raw else None
    if issued and issued.get("token_id") == token.pk:
        plaintext = issued["plaintext"]
        action = issued["action"]
    response = _page(
        request, "token_issued.html", {"token": token, "plaintext": plaintext, "action": action}
    )
    response.delete_cookie(cookie, path=_issued_path(token.pk), samesite="Strict")
    return response


@admin_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = _token_or_none(token_id, live_only=True)
    if token is None:
        return _not_found(request)
    if request.method == "POST":
        services.token_revoke(token=token, actor=_actor(request))
        messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
        return redirect("settings-api")
    return _page(request, "token_revoke.html", {"token": token})


@admin_required
@require_http_methods(["GET", "POST"])
def token_regenerate(request: HttpRequest, token_id: int) -> HttpResponse:
    token = _token_or_none(token_id, live_only=True)
    if token is None:
        return _not_found(request)
    form = TokenRegenerateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.token_regenerate(
                token=token, **form.service_arguments(), actor=_actor(request)
            )
        except InvalidInput as refused_by_policy:
            _form_errors(form, refused_by_policy)
        else:
            return _redirect_with_issued(issued, "regenerated")
    status = 422 if request.method == "POST" else 200
    return _page(request, "token_regenerate.html", {"token": token, "form": form}, status=status)


@admin_required
@require_http_methods(["GET", "POST"])
def token_edit(request: HttpRequest, token_id: int) -> HttpResponse:
    """Rename a live token or replace its IP allowlist (effective on its next request)."""
    token = _token_or_none(token_id, live_only=True)
    if token is None:
        return _not_found(request)
    initial = {"name": token.name, "allowed_ips": token.allowed_ips}
    form = TokenEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.token_update(token=token, actor=_actor(request), **form.cleaned_data)
        messages.success(
            request, _("The token “%(name)s” was saved.") % {"name": form.cleaned_data["name"]}
        )
        return redirect("settings-token-activity", token_id=token.pk)
    status = 422 if request.method == "POST" else 200
    return _page(request, "token_edit.html", {"token": token, "form": form}, status=status)


@admin_required
def token_activity(request: HttpRequest, token_id: int) -> HttpResponse:
    token = _token_or_none(token_id, live_only=False)
    if token is None:
        return _not_found(request)
    now = timezone.now()
    events = list(events_for_token(token.pk))
    for event in events:
        if event.kind in SYSTEM_EVENT_KINDS:  # details, not before/after pairs
            event.detail_lines = list(event.changes.items())  # type: ignore[attr-defined]
        else:
            event.change_lines = _change_lines(event.changes)  # type: ignore[attr-defined]
    rules = services.token_policy_rules()
    context = {
        "token": token,
        "status": token_status(token, now, rules),
        "rotation_due": rotation_due(token, now, rules),
        "requests": recent_requests_for_token(token.pk, RECENT_REQUESTS_SHOWN),
        "requests_shown": RECENT_REQUESTS_SHOWN,
        "events": events,
    }
    return _page(request, "token_activity.html", context)
