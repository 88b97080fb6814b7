"""Platform operators' admin: tenants, domains, the operators' own users and the job queue
(public host only).

Registered on ``operators_site`` only, which only the public host's urlconf mounts: no tenant
host has a URL for any of these models.
"""

import json

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.utils.html import format_html
from procrastinate.contrib.django.admin import ProcrastinateJobAdmin
from procrastinate.contrib.django.models import ProcrastinateJob

from tenancy.models import Domain, Tenant
from waqti.admin_sites import operators_site

operators_site.register(User, UserAdmin)
operators_site.register(Group, GroupAdmin)


@admin.register(ProcrastinateJob, site=operators_site)
class JobAdmin(ProcrastinateJobAdmin):
    """The job queue (public schema, every tenant's jobs): procrastinate's own read-only admin,
    its arguments without the inline style the Content-Security-Policy blocks (its summary's
    template is overridden in waqti/templates/procrastinate/admin/ for the same reason)."""

    @admin.display(description="Args")
    def pretty_args(self, instance: ProcrastinateJob) -> str:
        return format_html("<pre>{}</pre>", json.dumps(instance.args, indent=2)[:2000])


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant, site=operators_site)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "plan", "schema_name", "created_at"]
    list_filter = ["plan"]
    search_fields = ["slug", "name", "domains__domain"]
    readonly_fields = ["schema_name", "created_at"]
    inlines = [DomainInline]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # creating a schema belongs to `manage.py add_tenant`


@admin.register(Domain, site=operators_site)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    search_fields = ["domain", "tenant__slug"]
