"""Forms of the Settings -> API Settings pages (login, generate, regenerate)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tokens.abilities import Ability
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
