"""Tokens in the tenant host's Django admin: list, search, revoke; never a secret or hash."""

from django.contrib import admin

from tokens.models import ApiToken, TokenEvent


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "abilities", "created_at", "last_used_at", "expires_at", "revoked_at"]
    search_fields = ["name"]
    exclude = ["secret_hash", "previous_secret_hash"]
    readonly_fields = ["created_at", "last_used_at", "regenerated_at", "revoked_at",
                       "created_by_user", "created_by_token", "previous_secret_valid_until"]


@admin.register(TokenEvent)
class TokenEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "token", "kind", "actor_label", "ip_address"]
    list_filter = ["kind"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
