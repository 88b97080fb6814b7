"""The permission steps: where a token may be used from, and one declarative map from request
to required ability (contract section 2)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from tokens.abilities import Ability, has_ability
from waqti.api.exceptions import AddressNotAllowed, MissingAbility
from waqti.client_ip import client_ip

security_logger = logging.getLogger("waqti.security")

METHOD_ABILITIES = {
    "GET": Ability.READ,
    "HEAD": Ability.READ,
    "OPTIONS": Ability.READ,
    "POST": Ability.WRITE,
    "PUT": Ability.WRITE,
    "PATCH": Ability.WRITE,
    "DELETE": Ability.DELETE,
}


def required_ability(request: Request, view: Any) -> str | None:
    """The ability a request needs.

    A view may name one for all its methods (``required_ability = "admin"``), one per action
    (``action_abilities = {"approve": "approve"}``), or state that any valid token will do
    (``required_ability = None`` together with ``any_token = True``). Otherwise the HTTP method
    decides.
    """
    if getattr(view, "any_token", False):
        return None
    action = getattr(view, "action", None)
    per_action = getattr(view, "action_abilities", {})
    if action in per_action:
        return per_action[action]
    fixed = getattr(view, "required_ability", None)
    if fixed is not None:
        return fixed
    return METHOD_ABILITIES.get(request.method or "", Ability.ADMIN)


class FromAllowedAddress(BasePermission):
    """403 naming the client's address when the token's allowlist does not include it.

    Runs after the throttle (the refusal counts and carries the rate-limit headers, as a
    missing ability's does) and before the ability check (a token used from elsewhere learns
    nothing about its abilities). The allowlist comes with the token (its cached snapshot: no
    SQL, no Redis); an empty one skips the check.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if token is None or not token.allowed_ips:
            return True  # no token: HasRequiredAbility answers 401
        address = client_ip(request)
        if token.permits_address(address):
            return True
        security_logger.warning(
            "token %s refused: address %s is not in its allowed_ips (schema %s, %s %s)",
            token.pk,
            address,
            connection.schema_name,
            request.method,
            request.path,
        )
        raise AddressNotAllowed(address)


class HasRequiredAbility(BasePermission):
    """403 with the seed's body naming the missing ability."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if token is None:
            return False  # DRF turns this into NotAuthenticated -> 401
        ability = required_ability(request, view)
        if ability is not None and not has_ability(token.abilities, ability):
            raise MissingAbility(str(ability))
        return True
