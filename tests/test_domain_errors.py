"""Service errors (waqti.errors) become the contract's bodies through the one handler."""

from __future__ import annotations

import pytest

from waqti import errors
from waqti.api.errors import api_exception_handler


@pytest.mark.parametrize(
    ("exc", "status", "body"),
    [
        (
            errors.InvalidInput(errors={"vendor_id": ["The selected vendor id is invalid."]}),
            422,
            {
                "message": "The given data was invalid.",
                "errors": {"vendor_id": ["The selected vendor id is invalid."]},
            },
        ),
        (
            errors.StateConflict(
                "Only a draft purchase order can be edited; this one is approved."
            ),
            409,
            {
                "message": "Only a draft purchase order can be edited; this one is approved.",
                "errors": {},
            },
        ),
        (
            errors.NotPermitted(errors={"abilities": ["Cannot grant 'admin'."]}),
            403,
            {
                "message": "This action is unauthorized.",
                "errors": {"abilities": ["Cannot grant 'admin'."]},
            },
        ),
    ],
)
def test_domain_error_mapped_to_status_and_body(
    exc: errors.DomainError, status: int, body: dict[str, object]
) -> None:
    response = api_exception_handler(exc, {})
    assert response is not None
    assert (response.status_code, response.data) == (status, body)
