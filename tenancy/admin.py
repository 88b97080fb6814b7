"""Platform operators' admin: tenants, domains and the operators' own users (public host only).

Registered on ``operators_site`` only, which only the public host's urlconf mounts: no tenant
host has a URL for any of these models.
"""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from tenancy.models import Domain, Tenant
from waqti.admin_sites import operators_site

operators_site.register(User, UserAdmin)
operators_site.register(Group, GroupAdmin)


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
