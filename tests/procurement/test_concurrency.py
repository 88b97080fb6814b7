"""Races on real, separate connections: gapless numbering and single creates per key.

These tests cannot run inside the per-test rollback (other connections would not see the
data), so they build their own tenant, commit for real, and drop its schema afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from procurement import services
from procurement.models import PurchaseOrder, PurchaseOrderCounter, Vendor
from tenancy.models import Tenant
from tenancy.services import tenant_create
from tests.conftest import ApiClient, issue_token
from tests.own_connection import on_own_connection
from tests.procurement.conftest import line
from waqti.api.models import IdempotencyKey

RACE_SLUG = "procurement-race"
RACE_HOST = "procurement-race.localhost"


@pytest.fixture(scope="module")
def race_tenant(django_db_setup: None, django_db_blocker: Any) -> Iterator[Tenant]:
    """A tenant of this module's own, created and dropped on connections that commit."""

    def drop_leftover() -> None:  # e.g. from an interrupted run with --reuse-db
        stale = Tenant.objects.filter(slug=RACE_SLUG).first()
        if stale is not None:
            stale.delete(force_drop=True)

    def create() -> Tenant:
        drop_leftover()
        return tenant_create(slug=RACE_SLUG, name="Race Co", domains=[RACE_HOST], plan="ultimate")

    with django_db_blocker.unblock():
        tenant = on_own_connection(create)
        try:
            yield tenant
        finally:
            on_own_connection(drop_leftover)


@pytest.fixture
def committed(race_tenant: Tenant) -> Callable[..., Any]:
    """Run a function in the race tenant on a connection of its own, committing."""

    def run(fn: Callable[[], Any]) -> Any:
        def in_tenant() -> Any:
            with tenant_context(race_tenant):
                return fn()

        return on_own_connection(in_tenant)

    return run


def _in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Start ``count`` threads at the same moment; each uses (and closes) its own connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


class Crash(Exception):
    pass


# The marker makes pytest-django build the test database; the races themselves run on other
# connections, outside the test's rolled-back transaction.
pytestmark = pytest.mark.django_db


def test_concurrency_po_numbers_never_collide_or_skip(race_tenant, committed):
    vendor = committed(lambda: services.vendor_create(name="Race vendor"))
    department = committed(lambda: services.department_create(name="Race", code="RACE"))
    threads, per_thread = 8, 6

    def create_many(index: int) -> list[str]:
        numbers = []
        with tenant_context(race_tenant):
            for attempt in range(per_thread):
                try:
                    with transaction.atomic():
                        order = services.purchase_order_create(
                            vendor_id=vendor.pk, department_id=department.pk, items=[line()]
                        )
                        # Every third create dies after taking its number: it must give it back.
                        if (index + attempt) % 3 == 0:
                            raise Crash
                    numbers.append(order.po_number)
                except Crash:
                    pass
        return numbers

    created = [n for numbers in _in_threads(threads, create_many) for n in numbers]
    stored = committed(lambda: list(PurchaseOrder.objects.values_list("po_number", flat=True)))
    year = created[0].split("-")[1]
    assert sorted(stored) == sorted(created)
    assert len(created) == 32  # 48 attempts, 16 crashed
    assert sorted(created) == [f"PO-{year}-{n:04d}" for n in range(1, len(created) + 1)]
    assert committed(lambda: PurchaseOrderCounter.objects.get(year=int(year)).last_number) == 32


def test_concurrency_duplicate_idempotent_posts_create_once(race_tenant, committed):
    token = on_own_connection(lambda: issue_token(race_tenant, ["write"]))
    body = {"name": "Once Only Trading", "vat_number": "300011112222333"}

    def post(index: int) -> tuple[int, bytes]:
        client = ApiClient(host=RACE_HOST, token=token)
        response = client.post("/api/v1/vendors", body, headers={"Idempotency-Key": "retry-storm"})
        return response.status_code, response.content

    answers = _in_threads(6, post)
    assert {status for status, _ in answers} == {201}
    assert len({content for _, content in answers}) == 1
    assert committed(lambda: Vendor.objects.filter(vat_number="300011112222333").count()) == 1
    assert committed(lambda: IdempotencyKey.objects.filter(key="retry-storm").count()) == 1
