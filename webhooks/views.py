"""``/api/v1/webhooks``: subscriptions, their test ping, their deliveries (``admin`` ability)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from tokens.abilities import Ability
from waqti.api.views import ApiViewSet
from webhooks import delivery, services
from webhooks.models import Delivery, Subscription
from webhooks.serializers import (
    CreatedSubscriptionSerializer,
    DeliverySerializer,
    SubscriptionInputSerializer,
    SubscriptionSerializer,
)

ID_PATTERN = "[0-9]{1,18}"
TEST_EVENT = "webhook.test"


class WebhookViewSet(ApiViewSet):
    """List, create, show, replace, change and delete subscriptions; ping one; its deliveries."""

    required_ability = Ability.ADMIN
    lookup_value_regex = ID_PATTERN
    serializer_class = SubscriptionSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Subscription]:
        return Subscription.objects.all()

    def get_object(self) -> Subscription:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def _one(self, subscription: Subscription, code: int = status.HTTP_200_OK) -> Response:
        return Response({"data": SubscriptionSerializer(subscription).data}, status=code)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SubscriptionSerializer(page, many=True).data)

    @extend_schema(
        request=SubscriptionInputSerializer, responses={201: CreatedSubscriptionSerializer}
    )
    def create(self, request: Request) -> Response:
        form = SubscriptionInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        subscription = services.subscription_create(**form.validated_data)
        return Response(
            {"data": CreatedSubscriptionSerializer(subscription).data},
            status=status.HTTP_201_CREATED,
        )

    def retrieve(self, request: Request, pk: str) -> Response:
        return self._one(self.get_object())

    @extend_schema(request=SubscriptionInputSerializer)
    def update(self, request: Request, pk: str) -> Response:
        return self._update(request, partial=False)

    @extend_schema(request=SubscriptionInputSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        subscription = self.get_object()
        form = SubscriptionInputSerializer(data=request.data, partial=partial)
        form.is_valid(raise_exception=True)
        return self._one(
            services.subscription_update(subscription=subscription, **form.validated_data)
        )

    def destroy(self, request: Request, pk: str) -> Response:
        self.get_object().delete()  # its deliveries with it; queued attempts find nothing
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str) -> Response:
        """Queue a ``webhook.test`` delivery to this subscription alone (sent while it is
        active; a disabled one fails it at once, as any of its deliveries)."""
        subscription = self.get_object()
        body = delivery.event_body(
            TEST_EVENT, {"webhook_id": subscription.pk, "name": subscription.name}
        )
        with transaction.atomic():
            sent = delivery.enqueue(subscription, TEST_EVENT, body, delivery.new_message_id())
        return Response({"data": DeliverySerializer(sent).data}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: DeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str) -> Response:
        """This subscription's deliveries, newest first."""
        subscription = self.get_object()
        page = self.paginate_queryset(Delivery.objects.filter(subscription=subscription))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=rf"deliveries/(?P<delivery_id>{ID_PATTERN})/redeliver",
    )
    def redeliver(self, request: Request, pk: str, delivery_id: str) -> Response:
        """Send a delivery's body again, with the same ``webhook-id``, as a new delivery."""
        subscription = self.get_object()
        original = get_object_or_404(Delivery, pk=delivery_id, subscription=subscription)
        sent = delivery.redeliver(original)
        return Response({"data": DeliverySerializer(sent).data}, status=status.HTTP_202_ACCEPTED)
