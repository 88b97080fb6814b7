"""Routes for /api/v1/me and /api/v1/tokens."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from tokens.views import MeView, TokenViewSet

router = SimpleRouter(trailing_slash=False)
router.register("tokens", TokenViewSet, basename="token")

urlpatterns = [
    path("me", MeView.as_view(), name="me"),
    *router.urls,
]
