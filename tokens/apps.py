"""API tokens: Bearer authentication, abilities, plan rate limits (tenant schema)."""

from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"
    verbose_name = "API tokens"
