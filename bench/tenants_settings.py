"""Settings of `make bench-tenants` and the migrate tests: the project's, plus extra migrations.

WAQTI_EXTRA_TENANT_MIGRATIONS=one|two points procurement at bench/tenant_migrations/<name>
(procurement's migrations and one or two additive ones); unset, nothing differs.
"""

import os

from waqti.settings import *  # noqa: F403

EXTRA_TENANT_MIGRATIONS = os.environ.get("WAQTI_EXTRA_TENANT_MIGRATIONS", "")
if EXTRA_TENANT_MIGRATIONS:
    MIGRATION_MODULES = {"procurement": f"bench.tenant_migrations.{EXTRA_TENANT_MIGRATIONS}"}
