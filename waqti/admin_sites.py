"""The two Django admin sites: the operators' (public host) and each tenant's own (tenant hosts).

Which models a site shows is decided by registration, not by hiding: the tenant registry
(tenancy) and users/groups are registered only on ``operators_site`` (waqti/urls_public.py), so
on a tenant host (waqti/urls.py, ``tenant_site``) their URLs do not exist (404) for anyone.
``tenant_site`` holds only models of the tenant's schema (tokens, procurement). Both sites count
every password attempt before checking it (waqti.password_attempts).
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from waqti.password_attempts import AttemptLimitedLoginMixin, count_password_attempt, refused


class AttemptLimitedAdminAuthenticationForm(AttemptLimitedLoginMixin, AdminAuthenticationForm):
    """The admin's login form, counted before the password is checked."""


class AttemptLimitedAdminSite(AdminSite):
    """An admin site whose login and password change are bounded per address and per account."""

    login_form = AttemptLimitedAdminAuthenticationForm

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        return refused(response, getattr(form, "refusal", None))

    def password_change(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The form checks the old password; Django's view picks the form class, so the attempt
        # is counted here, before the view runs.
        if request.method == "POST":
            refusal = count_password_attempt(request, request.user.get_username())
            if refusal is not None:
                request.current_app = self.name
                context = {**self.each_context(request), "title": _("Password change")}
                page = TemplateResponse(
                    request,
                    "admin/password_attempts_refused.html",
                    {**context, "refusal": refusal},
                )
                return refused(page, refusal)
        return super().password_change(request, extra_context)


class OperatorsAdminSite(AttemptLimitedAdminSite):
    site_header = _("Waqti platform operators")
    site_title = _("Waqti operators")
    index_title = _("Tenant registry")


class TenantAdminSite(AttemptLimitedAdminSite):
    site_header = _("Waqti")
    site_title = _("Waqti admin")

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            context["site_header"] = tenant.name
        return context


operators_site = OperatorsAdminSite(name="operators_admin")
tenant_site = TenantAdminSite(name="tenant_admin")
