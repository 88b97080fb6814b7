"""Routes for /api/v1/me, /api/v1/rate-limit, /api/v1/tokens, /api/v1/token-policy and
/api/v1/api-logs."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from tokens.activity.views import ApiLogViewSet
from tokens.views import MeView, RateLimitView, TokenPolicyView, TokenViewSet

router = SimpleRouter(trailing_slash=False)
router.register("tokens", TokenViewSet, basename="token")
router.register("api-logs", ApiLogViewSet, basename="api-log")

urlpatterns = [
    path("me", MeView.as_view(), name="me"),
    path("rate-limit", RateLimitView.as_view(), name="rate-limit"),
    path("token-policy", TokenPolicyView.as_view(), name="token-policy"),
    *router.urls,
]
