"""Tenant users who may open Settings -> API Settings: creating them (CLI, seed_demo).

A *tenant admin* is an active, ``is_staff`` user of the tenant's schema in the group "Tenant
administrators", which holds exactly TENANT_ADMIN_PERMISSIONS. Never a superuser: the tenant
host's Django admin (waqti.admin_sites.tenant_site) shows them only what the group allows, and
nothing of users, groups or the tenant registry. The e-mail address is the login name (stored
lower-cased in ``username`` and ``email``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q

GENERATED_PASSWORD_BYTES = 15  # 20 URL-safe characters

TENANT_ADMIN_GROUP = "Tenant administrators"
# What the Settings pages need: list, generate, regenerate/revoke tokens, read their activity.
SETTINGS_PERMISSIONS = (
    "tokens.view_apitoken",
    "tokens.add_apitoken",
    "tokens.change_apitoken",
    "tokens.view_tokenevent",
    "tokens.view_apirequestlog",
)
# ... plus the tenant's own admin screens. No delete anywhere (tokens are revoked, procurement
# deletions are the API's `delete` ability), purchase orders read-only (their changes go through
# the API's lifecycle rules), and nothing of auth: a tenant admin cannot grant itself more.
# The data migration tokens/0003 holds a frozen copy of this list.
TENANT_ADMIN_PERMISSIONS = (
    *SETTINGS_PERMISSIONS,
    "procurement.view_department",
    "procurement.add_department",
    "procurement.change_department",
    "procurement.view_vendor",
    "procurement.add_vendor",
    "procurement.change_vendor",
    "procurement.view_purchaseorder",
    "procurement.view_purchaseorderitem",
    "procurement.view_purchaseorderevent",
)


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
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perms(SETTINGS_PERMISSIONS)
    )


def tenant_admin_group() -> Group:
    """The current schema's "Tenant administrators" group, holding exactly its permissions."""
    condition = Q(pk__in=[])
    for name in TENANT_ADMIN_PERMISSIONS:
        app_label, codename = name.split(".")
        condition |= Q(content_type__app_label=app_label, codename=codename)
    permissions = list(Permission.objects.filter(condition))
    if len(permissions) != len(TENANT_ADMIN_PERMISSIONS):
        raise TenantAdminError("permissions are missing in this tenant: run migrate_schemas")
    group, _created = Group.objects.get_or_create(name=TENANT_ADMIN_GROUP)
    group.permissions.set(permissions)
    return group


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
            username=email, email=email, password=password, is_staff=True, is_superuser=False
        )
        user.groups.add(tenant_admin_group())
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
        user.is_superuser = False
        user.set_password(password)
        user.save()
        user.groups.add(tenant_admin_group())
    return CreatedAdmin(user=user, password=password, generated=False)
