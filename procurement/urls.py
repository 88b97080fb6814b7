"""Routes for departments, vendors and purchase orders (no trailing slash, numeric ids)."""

from rest_framework.routers import SimpleRouter

from procurement.views import DepartmentViewSet, PurchaseOrderViewSet, VendorViewSet

router = SimpleRouter(trailing_slash=False)
router.register("departments", DepartmentViewSet, basename="department")
router.register("vendors", VendorViewSet, basename="vendor")
router.register("purchase-orders", PurchaseOrderViewSet, basename="purchase-order")

urlpatterns = router.urls
