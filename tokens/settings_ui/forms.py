"""Forms of the Settings -> API Settings pages (login, generate, regenerate, token policy)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tokens.abilities import Ability, normalize_abilities
from tokens.policy import MAX_DAYS, TokenRules
from tokens.services import MAX_GRACE_MINUTES
from waqti.password_attempts import AttemptLimitedLoginMixin

DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class SettingsLoginForm(AttemptLimitedLoginMixin, AuthenticationForm):
    """Django's login form with the e-mail address as the user name; attempts are counted first."""

    username = forms.CharField(
        label=_("Email"),
        max_length=150,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class TokenCreateForm(forms.Form):
    """Name, abilities (checkboxes with the seed's descriptions) and an optional expiry."""

    name = forms.CharField(
        label=_("Token name"),
        max_length=255,
        help_text=_('A descriptive name, e.g. "ERP Integration".'),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    abilities = forms.MultipleChoiceField(
        label=_("Abilities"),
        choices=Ability.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Grant only the abilities the integration needs."),
        error_messages={"required": _("Choose at least one ability.")},
    )
    expires_at = forms.DateTimeField(
        label=_("Expires at (optional)"),
        required=False,
        input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT),
        help_text=_("Leave empty for a token that does not expire."),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter a name."))
        return name

    def clean_expires_at(self) -> datetime | None:
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError(_("The expiry must be in the future."))
        return expires_at

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "abilities": data["abilities"],
            "expires_at": data["expires_at"],
        }


class TokenRegenerateForm(forms.Form):
    """How long the old secret keeps working after the new one is issued."""

    grace_period_minutes = forms.IntegerField(
        label=_("Grace period (minutes)"),
        min_value=0,
        max_value=MAX_GRACE_MINUTES,
        initial=0,
        help_text=_(
            "0 stops the old token at once; up to 1440 (24 hours) lets integrations switch over."
        ),
    )
    expires_at = forms.DateTimeField(
        label=_("New expiry (optional)"),
        required=False,
        input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT),
        help_text=_("Leave empty to keep the token's expiry."),
    )

    def clean_expires_at(self) -> datetime | None:
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError(_("The expiry must be in the future."))
        return expires_at

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        arguments: dict[str, Any] = {"grace_period_minutes": data["grace_period_minutes"]}
        if data.get("expires_at") is not None:
            arguments["expires_at"] = data["expires_at"]
        return arguments


class TokenPolicyForm(forms.Form):
    """The tenant's token policy (``tokens.policy``); empty day counts mean "no limit"."""

    max_lifetime_days = forms.IntegerField(
        label=_("Maximum lifetime (days)"),
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        help_text=_(
            "New and regenerated tokens must expire within this many days. Empty: no limit."
        ),
    )
    expire_unused_after_days = forms.IntegerField(
        label=_("Expire unused tokens after (days)"),
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        help_text=_("A token not used for this many days stops working. Empty: never."),
    )
    rotation_days = forms.IntegerField(
        label=_("Rotation due after (days)"),
        min_value=1,
        max_value=MAX_DAYS,
        help_text=_(
            "Tokens are marked “Rotation due” this many days after their secret was issued."
        ),
    )
    allowed_abilities = forms.MultipleChoiceField(
        label=_("Allowed abilities"),
        choices=Ability.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "New tokens may hold only these. Existing tokens cannot use the others while the "
            "policy stands."
        ),
        error_messages={"required": _("Choose at least one ability.")},
    )

    @classmethod
    def initial_for(cls, rules: TokenRules) -> dict[str, Any]:
        return rules.as_dict()

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["allowed_abilities"] = normalize_abilities(data["allowed_abilities"])
        return data
