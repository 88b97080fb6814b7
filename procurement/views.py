"""Departments, vendors and purchase orders over HTTP: validate, call one service, serialize."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from procurement import lifecycle, separation, services
from procurement.filters import FilterBackend, PurchaseOrderFilter, VendorFilter
from procurement.list_rows import ListedOrders
from procurement.models import ApprovalPolicyEvent, Department, PurchaseOrder, Vendor
from procurement.serializers import (
    ApprovalPolicyOutputSerializer,
    ApprovalPolicySerializer,
    ApproveInputSerializer,
    DepartmentInputSerializer,
    DepartmentSerializer,
    PurchaseOrderInputSerializer,
    PurchaseOrderSerializer,
    RejectInputSerializer,
    VendorInputSerializer,
    VendorSerializer,
)
from tokens.abilities import Ability
from waqti.api.idempotency import idempotent
from waqti.api.sorting import SortingFilter
from waqti.api.views import ApiView, ApiViewSet

ID_PATTERN = "[0-9]{1,18}"


def _token_id(request: Request) -> int | None:
    return request.auth.pk if request.auth is not None else None


class CrudViewSet(ApiViewSet):
    """List (filtered, sorted, paginated), retrieve, create, PUT/PATCH and delete.

    PUT needs the fields a create needs; PATCH any subset. Optional fields left out keep their
    values in both.
    """

    lookup_value_regex = ID_PATTERN
    filter_backends = [FilterBackend, SortingFilter]
    output_serializer: type[Serializer]
    input_serializer: type[Serializer]
    # Actions a business rule can refuse with 409; the OpenAPI schema documents them.
    conflict_actions: frozenset[str] = frozenset()

    def _input(self, request: Request, *, patch: bool = False) -> Serializer:
        form = self.input_serializer(data=request.data, patch=patch)
        form.is_valid(raise_exception=True)
        return form

    def get_object(self) -> Any:
        """By id only: list filters and sorting in the query string do not apply to one object."""
        instance = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, instance)
        return instance

    def _one(self, instance: Any, code: int = status.HTTP_200_OK) -> Response:
        return Response({"data": self.output_serializer(instance).data}, status=code)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.output_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return self._one(self.get_object())

    def update(self, request: Request, pk: str) -> Response:
        return self._update(request, patch=False)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self._update(request, patch=True)

    def _update(self, request: Request, *, patch: bool) -> Response:
        """Each resource validates with ``patch`` and calls its own update service."""
        raise NotImplementedError


class DepartmentViewSet(CrudViewSet):
    """``/api/v1/departments``."""

    conflict_actions = frozenset({"destroy"})  # while purchase orders refer to it

    input_serializer = DepartmentInputSerializer
    output_serializer = DepartmentSerializer
    serializer_class = DepartmentSerializer
    sort_fields = ["created_at", "updated_at", "name", "code", "id"]

    def get_queryset(self) -> QuerySet[Department]:
        return Department.objects.all()

    @idempotent
    def create(self, request: Request) -> Response:
        department = services.department_create(**self._input(request).validated_data)
        return self._one(department, status.HTTP_201_CREATED)

    def _update(self, request: Request, *, patch: bool) -> Response:
        department = self.get_object()
        form = self._input(request, patch=patch)
        return self._one(services.department_update(department=department, **form.validated_data))

    def destroy(self, request: Request, pk: str) -> Response:
        services.department_delete(department=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class VendorViewSet(CrudViewSet):
    """``/api/v1/vendors`` with ``status``, ``category`` and ``search`` filters."""

    input_serializer = VendorInputSerializer
    output_serializer = VendorSerializer
    serializer_class = VendorSerializer
    filterset_class = VendorFilter
    conflict_actions = frozenset({"destroy"})  # while purchase orders refer to it
    sort_fields = ["created_at", "updated_at", "name", "status", "category", "payment_terms", "id"]

    def get_queryset(self) -> QuerySet[Vendor]:
        return Vendor.objects.all()

    @idempotent
    def create(self, request: Request) -> Response:
        vendor = services.vendor_create(**self._input(request).validated_data)
        return self._one(vendor, status.HTTP_201_CREATED)

    def _update(self, request: Request, *, patch: bool) -> Response:
        vendor = self.get_object()
        form = self._input(request, patch=patch)
        return self._one(services.vendor_update(vendor=vendor, **form.validated_data))

    def destroy(self, request: Request, pk: str) -> Response:
        services.vendor_delete(vendor=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class PurchaseOrderViewSet(CrudViewSet):
    """``/api/v1/purchase-orders`` and the lifecycle actions of contract section 6."""

    input_serializer = PurchaseOrderInputSerializer
    output_serializer = PurchaseOrderSerializer
    serializer_class = PurchaseOrderSerializer
    filterset_class = PurchaseOrderFilter
    sort_fields = [
        "created_at",
        "updated_at",
        "po_number",
        "status",
        "total_amount",
        "expected_delivery_date",
        "id",
    ]
    action_abilities = {"approve": Ability.APPROVE, "reject": Ability.APPROVE}
    # Refused with 409 when the order's status does not allow them (procurement.lifecycle).
    conflict_actions = frozenset(
        {"update", "partial_update", "destroy", "submit", "approve", "reject", "cancel", "complete"}
    )

    def get_queryset(self) -> QuerySet[PurchaseOrder]:
        return PurchaseOrder.objects.with_details()

    def list(self, request: Request) -> Response:
        """Same filters, sorting, pagination and JSON as the other lists, served from rows."""
        orders = self.filter_queryset(PurchaseOrder.objects.all())
        return self.get_paginated_response(self.paginate_queryset(ListedOrders(orders)))

    def _fresh(self, order: PurchaseOrder, code: int = status.HTTP_200_OK) -> Response:
        """Answer with the order as stored, lines included."""
        return self._one(self.get_queryset().get(pk=order.pk), code)

    @idempotent
    def create(self, request: Request) -> Response:
        form = self._input(request)
        order = services.purchase_order_create(**form.service_kwargs(), token_id=_token_id(request))
        return self._fresh(order, status.HTTP_201_CREATED)

    def _update(self, request: Request, *, patch: bool) -> Response:
        order = self.get_object()
        form = self._input(request, patch=patch)
        order = services.purchase_order_update(
            purchase_order=order, **form.service_kwargs(), token_id=_token_id(request)
        )
        return self._fresh(order)

    def destroy(self, request: Request, pk: str) -> Response:
        services.purchase_order_delete(purchase_order=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        order = lifecycle.purchase_order_submit(
            purchase_order=self.get_object(), token_id=_token_id(request)
        )
        return self._fresh(order)

    @extend_schema(request=ApproveInputSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        order = self.get_object()
        form = ApproveInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        order = lifecycle.purchase_order_approve(
            purchase_order=order, **form.validated_data, token_id=_token_id(request)
        )
        return self._fresh(order)

    @extend_schema(request=RejectInputSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        order = self.get_object()
        form = RejectInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        order = lifecycle.purchase_order_reject(
            purchase_order=order, **form.validated_data, token_id=_token_id(request)
        )
        return self._fresh(order)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        order = lifecycle.purchase_order_cancel(
            purchase_order=self.get_object(), token_id=_token_id(request)
        )
        return self._fresh(order)

    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        order = lifecycle.purchase_order_complete(
            purchase_order=self.get_object(), token_id=_token_id(request)
        )
        return self._fresh(order)


POLICY_CHANGES_SHOWN = 20


def _approval_policy_data() -> dict[str, Any]:
    policy = separation.approval_policy()
    changes = ApprovalPolicyEvent.objects.all()[:POLICY_CHANGES_SHOWN]
    return ApprovalPolicyOutputSerializer(
        {
            "separation_of_duties": policy.separation_of_duties,
            "updated_at": policy.updated_at,
            "changes": changes,
        }
    ).data


class ApprovalPolicyView(ApiView):
    """``/api/v1/approval-policy``: separation of duties on approvals (``admin`` ability)."""

    required_ability = Ability.ADMIN

    @extend_schema(
        responses={200: ApprovalPolicyOutputSerializer},
        summary="Show the tenant's approval policy",
    )
    def get(self, request: Request) -> Response:
        return Response({"data": _approval_policy_data()})

    @extend_schema(
        request=ApprovalPolicySerializer,
        responses={200: ApprovalPolicyOutputSerializer},
        summary="Replace the tenant's approval policy",
    )
    def put(self, request: Request) -> Response:
        form = ApprovalPolicySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        separation.approval_policy_update(
            separation_of_duties=form.validated_data["separation_of_duties"],
            token_id=_token_id(request),
        )
        return Response({"data": _approval_policy_data()})
