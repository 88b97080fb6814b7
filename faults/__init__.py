"""`make faults`: the API under faults, on private PostgreSQL and Redis servers it starts itself."""
