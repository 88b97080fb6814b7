"""``GET /api/v1/api-logs``: the tenant's API activity log, newest first, for admin tokens."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from tokens.abilities import Ability
from tokens.activity import log as activity
from tokens.activity.serializers import (
    HTTP_METHODS,
    ApiLogFilterSerializer,
    ApiRequestLogSerializer,
)
from waqti.api.views import ApiViewSet


class ApiLogViewSet(ApiViewSet):
    """Lists recorded ``/api/v1`` requests; filters ``token_id``, ``status``, ``method``,
    ``from``, ``to``."""

    required_ability = Ability.ADMIN
    serializer_class = ApiRequestLogSerializer

    @extend_schema(
        summary="API activity log",
        parameters=[
            OpenApiParameter("token_id", {"type": "integer", "minimum": 1}),
            OpenApiParameter("status", {"type": "integer", "minimum": 100, "maximum": 599}),
            OpenApiParameter("method", str, enum=list(HTTP_METHODS)),
            OpenApiParameter("from", OpenApiTypes.DATETIME, description="ISO 8601, inclusive"),
            OpenApiParameter("to", OpenApiTypes.DATETIME, description="ISO 8601, inclusive"),
        ],
    )
    def list(self, request: Request) -> Response:
        # Blank parameters (an empty form field) mean "no filter".
        given = {key: value for key, value in request.query_params.items() if value != ""}
        filters = ApiLogFilterSerializer(data=given)
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        # This worker's requests of the last second are written first, so they are listed too.
        activity.flush_pending()
        logs = activity.api_logs(
            token_id=values.get("token_id"),
            status=values.get("status"),
            method=values.get("method"),
            since=values.get("from"),
            until=values.get("to"),
        )
        page = self.paginate_queryset(logs)
        return self.get_paginated_response(ApiRequestLogSerializer(page, many=True).data)
