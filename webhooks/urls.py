"""Routes for /api/v1/webhooks (no trailing slash, numeric ids)."""

from rest_framework.routers import SimpleRouter

from webhooks.views import WebhookViewSet

router = SimpleRouter(trailing_slash=False)
router.register("webhooks", WebhookViewSet, basename="webhook")

urlpatterns = router.urls
