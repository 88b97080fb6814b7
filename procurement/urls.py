"""Routes for departments, vendors and purchase orders."""

urlpatterns: list = []
