"""Services refuse with the domain errors of ``waqti.errors``; they know nothing of DRF."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from rest_framework.exceptions import APIException

from procurement import lifecycle, services
from tests.procurement.conftest import line
from waqti.errors import InvalidInput, StateConflict


def test_services_refuse_with_domain_errors(make, acme):
    vendor, department = make.vendor(acme), make.department(acme, code="FIN")
    order = make.order(acme, vendor=vendor, department=department)
    refusals = [
        (InvalidInput, lambda: services.department_create(name="Again", code="fin")),
        (StateConflict, lambda: services.department_delete(department=department)),
        (StateConflict, lambda: services.vendor_delete(vendor=vendor)),
        (
            InvalidInput,
            lambda: services.purchase_order_create(
                vendor_id=0, department_id=department.pk, items=[line()]
            ),
        ),
        (InvalidInput, lambda: services.purchase_order_update(purchase_order=order, items=[])),
        (StateConflict, lambda: lifecycle.purchase_order_approve(purchase_order=order, token_id=1)),
    ]
    with tenant_context(acme):
        for kind, refuse in refusals:
            with pytest.raises(kind) as refused:
                refuse()
            assert not isinstance(refused.value, APIException)
            assert refused.value.errors
    connection.set_schema_to_public()
