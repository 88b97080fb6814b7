"""Routes for departments, vendors, purchase orders (no trailing slash, numeric ids) and the
approval policy."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from procurement.views import (
    ApprovalPolicyView,
    DepartmentViewSet,
    PurchaseOrderViewSet,
    VendorViewSet,
)

router = SimpleRouter(trailing_slash=False)
router.register("departments", DepartmentViewSet, basename="department")
router.register("vendors", VendorViewSet, basename="vendor")
router.register("purchase-orders", PurchaseOrderViewSet, basename="purchase-order")

urlpatterns = [
    *router.urls,
    path("approval-policy", ApprovalPolicyView.as_view(), name="approval-policy"),
]
