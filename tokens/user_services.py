"""Tenant users who may open Settings -> API Settings: creating them (CLI, seed_demo).

A *tenant admin* is an active user of the tenant's schema with ``is_staff`` set. They are also
``is_superuser`` inside that schema so the tenant host's Django admin shows them the tokens.
The e-mail address is the login name (stored lower-cased in ``username`` and ``email``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

GENERATED_PASSWORD_BYTES = 15  # 20 URL-safe characters


class TenantAdminError(Exception):
    """A tenant admin could not be created; the message is fit to show a user."""


@dataclass(frozen=True)
class CreatedAdmin:
    """The new user and, when it was generated here, its password (shown once)."""

    user: AbstractBaseUser
    password: str
    generated: bool


def is_tenant_admin(user: AbstractBaseUser | None) -> bool:
    """Whether ``user`` may manage the tenant's API tokens in Settings."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def _clean_email(email: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise TenantAdminError(f"invalid e-mail address {email!r}") from exc
    if len(email) > 150:
        raise TenantAdminError("the e-mail address must be at most 150 characters")
    return email


def tenant_admin_create(*, email: str, password: str | None = None) -> CreatedAdmin:
    """Create a tenant admin in the current schema; generate a password when none is given."""
    email = _clean_email(email)
    user_model = get_user_model()
    if user_model.objects.filter(username=email).exists():
        raise TenantAdminError(f"a user {email!r} already exists in this tenant")
    generated = password is None
    if password is None:
        password = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
    candidate = user_model(username=email, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise TenantAdminError("weak password: " + " ".join(exc.messages)) from exc
    with transaction.atomic():
        user = user_model.objects.create_user(
            username=email, email=email, password=password, is_staff=True, is_superuser=True
        )
    return CreatedAdmin(user=user, password=password, generated=generated)


def tenant_admin_ensure(*, email: str, password: str) -> CreatedAdmin:
    """Create the admin, or reset an existing one to ``password`` (idempotent demo seeding).

    Skips the password validators on purpose: the demo password is documented, not secret.
    """
    email = _clean_email(email)
    user_model = get_user_model()
    with transaction.atomic():
        user, _created = user_model.objects.get_or_create(username=email, defaults={"email": email})
        user.email = email
        user.is_active = True
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
    return CreatedAdmin(user=user, password=password, generated=False)
