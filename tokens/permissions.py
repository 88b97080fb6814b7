"""One declarative map from request to required ability (contract section 2)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from tokens.abilities import Ability, has_ability
from waqti.api.exceptions import MissingAbility

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
