"""Token management endpoints and ``/me``: validate, call one service, serialize."""

from __future__ import annotations

import time
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from tokens import services
from tokens.abilities import Ability
from tokens.models import ApiToken, TokenPolicy, TokenPolicyEvent
from tokens.policy import DEFAULT_RULES
from tokens.ratelimit.counter import window_end
from tokens.ratelimit.plans import PLAN_KEY, window_label
from tokens.ratelimit.quota import QuotaThrottle
from tokens.serializers import (
    IssuedTokenSerializer,
    MeSerializer,
    RateLimitSerializer,
    TokenCreateSerializer,
    TokenPolicyChangeSerializer,
    TokenPolicyOutputSerializer,
    TokenPolicySerializer,
    TokenRegenerateSerializer,
    TokenSerializer,
    TokenUpdateSerializer,
)
from waqti.api.serializers import utc_timestamp
from waqti.api.views import ApiView, ApiViewSet
from waqti.client_ip import client_ip


def _actor(request: Request) -> services.Actor:
    return services.Actor(token=request.auth, ip_address=client_ip(request))


def _policy_context() -> dict[str, Any]:
    """What token shapes need to apply the tenant's token policy (one query)."""
    return {"rules": services.token_policy_rules(), "now": timezone.now()}


def _issued(issued: services.IssuedToken) -> dict[str, Any]:
    issued.token.token = issued.plaintext  # type: ignore[attr-defined]
    return IssuedTokenSerializer(issued.token, context=_policy_context()).data


class MeView(ApiView):
    """``GET /api/v1/me``: which tenant and token this is (any valid token)."""

    any_token = True

    @extend_schema(responses={200: MeSerializer}, summary="Check the calling token")
    def get(self, request: Request) -> Response:
        # Built by hand (the shape of MeSerializer, which documents it): this is the hottest
        # endpoint and a serializer instance per request was ~16% of its CPU.
        token = request.auth
        tenant = request.tenant
        data = {
            "tenant_id": str(tenant.slug),
            "tenant_name": str(tenant.name),
            "token_name": str(token.name),
            "abilities": [str(ability) for ability in token.abilities],
            "last_used_at": utc_timestamp(token.last_used_at),
        }
        return Response({"data": data})


class RateLimitView(ApiView):
    """``GET /api/v1/rate-limit``: the plan's windows as they stand (any valid token).

    Not counted against the plan; counted in a window of its own per token
    (``tokens.ratelimit.quota``), in the one Redis call that also checks the token.
    """

    any_token = True
    quota_read = True  # the token check reads the quota (tokens.authentication)
    throttle_classes = [QuotaThrottle]

    @extend_schema(
        responses={200: RateLimitSerializer},
        summary="Read the plan's rate-limit windows (not counted against them)",
        description="Not counted against the plan's windows; limited to 60 requests a minute "
        "per token of its own (its 429 and X-RateLimit-* describe that limit).",
    )
    def get(self, request: Request) -> Response:
        budget = request.plan_budget
        usages = budget.usages
        windows = []
        if usages is None:  # the counter is unreachable: nothing is counted, all remains
            now = int(time.time())
            for window in budget.windows:
                reset = window_end(PLAN_KEY, window.period, now) + 1
                windows.append(
                    {
                        "name": window_label(window),
                        "limit": window.limit,
                        "remaining": window.limit,
                        "reset": reset,
                    }
                )
        else:
            for window, usage in zip(budget.windows, usages, strict=True):
                windows.append(
                    {
                        "name": window_label(window),
                        "limit": usage.limit,
                        "remaining": usage.remaining,
                        "reset": usage.reset_at,
                    }
                )
        return Response({"data": {"plan": budget.plan, "windows": windows}})


class TokenViewSet(ApiViewSet):
    """``/api/v1/tokens``: every action needs the ``admin`` ability."""

    required_ability = Ability.ADMIN
    serializer_class = TokenSerializer
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[ApiToken]:
        return ApiToken.objects.live()

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        data = TokenSerializer(page, many=True, context=_policy_context()).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, pk: str) -> Response:
        token = self.get_object()
        return Response({"data": TokenSerializer(token, context=_policy_context()).data})

    @extend_schema(request=TokenCreateSerializer, responses={201: IssuedTokenSerializer})
    def create(self, request: Request) -> Response:
        form = TokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        issued = services.token_create(**form.validated_data, actor=_actor(request))
        return Response({"data": _issued(issued)}, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=TokenUpdateSerializer,
        responses={200: TokenSerializer},
        summary="Rename a token or replace its IP allowlist",
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        form = TokenUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        token = services.token_update(
            token=self.get_object(), actor=_actor(request), **form.validated_data
        )
        return Response({"data": TokenSerializer(token).data})

    def destroy(self, request: Request, pk: str) -> Response:
        services.token_revoke(token=self.get_object(), actor=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=TokenRegenerateSerializer, responses={200: IssuedTokenSerializer})
    @action(detail=True, methods=["post"])
    def regenerate(self, request: Request, pk: str) -> Response:
        form = TokenRegenerateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        issued = services.token_regenerate(
            token=self.get_object(),
            grace_period_minutes=form.validated_data.get("grace_period_minutes", 0),
            allowed_ips=form.validated_data.get("allowed_ips"),
            expires_at=form.validated_data.get("expires_at", services.KEEP_EXPIRY),
            actor=_actor(request),
        )
        return Response({"data": _issued(issued)})


POLICY_CHANGES_SHOWN = 20


def _policy_data() -> dict[str, Any]:
    row = TokenPolicy.objects.filter(pk=TokenPolicy.SINGLETON_ID).first()
    rules = row.rules() if row is not None else DEFAULT_RULES
    changes = TokenPolicyEvent.objects.all()[:POLICY_CHANGES_SHOWN]
    return {
        **rules.as_dict(),
        "updated_at": utc_timestamp(row.updated_at if row is not None else None),
        "changes": TokenPolicyChangeSerializer(changes, many=True).data,
    }


class TokenPolicyView(ApiView):
    """``/api/v1/token-policy``: the tenant's token policy (``admin`` ability)."""

    required_ability = Ability.ADMIN

    @extend_schema(
        responses={200: TokenPolicyOutputSerializer}, summary="Show the tenant's token policy"
    )
    def get(self, request: Request) -> Response:
        return Response({"data": _policy_data()})

    @extend_schema(
        request=TokenPolicySerializer,
        responses={200: TokenPolicyOutputSerializer},
        summary="Replace the tenant's token policy",
    )
    def put(self, request: Request) -> Response:
        form = TokenPolicySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.token_policy_update(changes=form.validated_data, actor=_actor(request))
        return Response({"data": _policy_data()})
