"""The same 0003 as in bench/tenant_migrations/one."""

from importlib import import_module

Migration = import_module("bench.tenant_migrations.one.0003_vendor_bench_flag").Migration
