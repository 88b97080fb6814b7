"""Tokens in the tenant host's Django admin (tenant_site): list, search, revoke; never a secret.

Creating a token here goes through tokens.services.token_create; its plaintext is shown once in
a message on the next page and is stored nowhere. Existing tokens are read-only: changes go
through the "Revoke" action (or Settings -> API Settings for regeneration).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tokens.abilities import Ability
from tokens.models import ApiToken, TokenEvent
from tokens.services import Actor, token_create, token_policy_check, token_revoke
from waqti.admin_sites import tenant_site
from waqti.client_ip import client_ip
from waqti.errors import InvalidInput

SHOWN_FIELDS = [
    "name",
    "abilities",
    "allowed_ips",  # edited in Settings or with PATCH /api/v1/tokens/{id}, where it is audited
    "expires_at",
    "created_at",
    "last_used_at",
    "regenerated_at",
    "previous_secret_valid_until",
    "revoked_at",
    "created_by_user",
    "created_by_token",
]


class ApiTokenAddForm(forms.ModelForm):
    """The writable fields of a new token; the secret is made by the service."""

    abilities = forms.MultipleChoiceField(
        label=_("Abilities"), choices=Ability.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiToken
        fields = ["name", "abilities", "expires_at"]

    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError(_("The expiry must be in the future."))
        return expires_at

    def clean(self) -> dict[str, Any]:
        """The tenant's token policy, as the service applies it, shown on the fields."""
        cleaned = super().clean() or {}
        if "abilities" in cleaned and "expires_at" in cleaned:
            try:
                token_policy_check(abilities=cleaned["abilities"], expires_at=cleaned["expires_at"])
            except InvalidInput as refused:
                for field, field_messages in refused.errors.items():
                    for message in field_messages:
                        self.add_error(field, message)
        return cleaned


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user, ip_address=client_ip(request))


@admin.register(ApiToken, site=tenant_site)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "abilities",
        "status",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_display_links = ["id", "name"]
    search_fields = ["name"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    actions = ["revoke_tokens"]
    # secret_hash / previous_secret_hash never appear: not in any fieldset, form or list.
    fields = SHOWN_FIELDS

    def get_form(self, request: HttpRequest, obj: ApiToken | None = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
            kwargs["fields"] = ApiTokenAddForm.Meta.fields
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        return list(ApiTokenAddForm.Meta.fields) if obj is None else SHOWN_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        return [] if obj is None else SHOWN_FIELDS

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False  # deleting would erase the audit trail; revoke instead

    @admin.display(description=_("Status"))
    def status(self, token: ApiToken) -> str:
        if token.is_revoked:
            return str(_("Revoked"))
        if token.is_expired(timezone.now()):
            return str(_("Expired"))
        return str(_("Active"))

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return  # existing tokens are read-only here
        issued = token_create(
            name=form.cleaned_data["name"],
            abilities=form.cleaned_data["abilities"],
            expires_at=form.cleaned_data.get("expires_at"),
            actor=_actor(request),
        )
        # The admin logs and links to ``obj``: make it the saved row (without its hash).
        obj.pk = issued.token.pk
        obj.created_at = issued.token.created_at
        obj.abilities = issued.token.abilities
        messages.warning(
            request,
            _("Copy the token now, it will not be shown again: %(token)s")
            % {"token": issued.plaintext},
        )

    @admin.action(description=_("Revoke selected tokens"), permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            token_revoke(token=token, actor=_actor(request))
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(TokenEvent, site=tenant_site)
class TokenEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "token", "kind", "actor_label", "ip_address"]
    list_filter = ["kind"]
    search_fields = ["token__name", "actor_label"]
    list_select_related = ["token"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TokenEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TokenEvent | None = None) -> bool:
        return False
