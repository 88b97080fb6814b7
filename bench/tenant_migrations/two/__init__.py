"""procurement's migrations and the bench's extra ones (see bench/tenant_migrations)."""
