"""Errors that business services raise; the API's one exception handler maps them to HTTP.

Services (``procurement.services``, ``tokens.services``) know nothing of HTTP or DRF: they raise
one of these, with a message and field errors fit to show a user, and
``waqti.api.errors.api_exception_handler`` gives each kind its status code and contract body.
"""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the action. ``errors`` maps field names to messages."""

    def __init__(self, message: str = "", errors: dict[str, list[str]] | None = None) -> None:
        self.message = message
        self.errors = errors or {}
        super().__init__(message or repr(self.errors))


class InvalidInput(DomainError):
    """The input breaks a rule the serializer cannot see (e.g. an inactive vendor): 422."""


class StateConflict(DomainError):
    """The resource's current state forbids the action (e.g. editing an approved PO): 409."""


class NotPermitted(DomainError):
    """The actor may not do this (e.g. grant abilities it lacks): 403."""
