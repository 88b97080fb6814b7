"""Forms of the Settings -> API Settings pages (login, generate, regenerate, token policy)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tokens import allowlist
from tokens.abilities import Ability, normalize_abilities
from tokens.policy import MAX_DAYS, TokenRules
from tokens.serializers import entry_refusal
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


class AllowedIpsField(forms.CharField):
    """The IP allowlist as text: one address or CIDR per line (commas work too); cleaned into
    the canonical list (``tokens.allowlist``), errors naming the line."""

    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Allowed IP addresses (optional)"))
        kwargs.setdefault(
            "help_text",
            _(
                "One IPv4 or IPv6 address or CIDR per line, e.g. 203.0.113.9 or 203.0.113.0/24; "
                "at most 50. Requests from other addresses are refused (403). Leave empty to "
                "allow every address."
            ),
        )
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", allowlist.MAX_ENTRIES * (allowlist.MAX_ENTRY_LENGTH + 2))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value) or ""
        entries = [e.strip() for line in text.splitlines() for e in line.split(",") if e.strip()]
        if len(entries) > allowlist.MAX_ENTRIES:
            raise forms.ValidationError(
                _("At most %(limit)s entries.") % {"limit": allowlist.MAX_ENTRIES}
            )
        errors = []
        for number, entry in enumerate(entries, start=1):
            try:
                allowlist.normalize_entry(entry)
            except allowlist.InvalidEntry:
                reason = entry_refusal(entry)
                errors.append(
                    forms.ValidationError(
                        _("Entry %(number)s: %(reason)s") % {"number": number, "reason": reason}
                    )
                )
        if errors:
            raise forms.ValidationError(errors)
        return allowlist.normalize_allowlist(entries)


class ExpiryField(forms.DateTimeField):
    """An optional expiry from the browser's date-time picker (read in the user's time zone);
    it must lie in the future."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("input_formats", [DATETIME_LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d"])
        super().__init__(**kwargs)

    def clean(self, value: Any) -> datetime | None:
        expires_at = super().clean(value)
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError(_("The expiry must be in the future."))
        return expires_at


class NamedTokenForm(forms.Form):
    """A form with the token's ``name``, cleaned alike wherever it is typed."""

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter a name."))
        return name


class TokenCreateForm(NamedTokenForm):
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
    expires_at = ExpiryField(
        label=_("Expires at (optional)"),
        help_text=_("Leave empty for a token that does not expire."),
    )
    allowed_ips = AllowedIpsField()

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "abilities": data["abilities"],
            "expires_at": data["expires_at"],
            "allowed_ips": data["allowed_ips"],
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
    expires_at = ExpiryField(
        label=_("New expiry (optional)"),
        help_text=_("Leave empty to keep the token's expiry."),
    )

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        arguments: dict[str, Any] = {"grace_period_minutes": data["grace_period_minutes"]}
        if data.get("expires_at") is not None:
            arguments["expires_at"] = data["expires_at"]
        return arguments


class TokenEditForm(NamedTokenForm):
    """What can change on a live token: its name and its IP allowlist."""

    name = forms.CharField(
        label=_("Token name"),
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    allowed_ips = AllowedIpsField()


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
