"""Register the public schema as the platform tenant, served at localhost and 127.0.0.1."""

from django.db import migrations

PUBLIC_HOSTS = ["localhost", "127.0.0.1"]


def create_public_tenant(apps, schema_editor):
    Tenant = apps.get_model("tenancy", "Tenant")
    Domain = apps.get_model("tenancy", "Domain")
    tenant, _ = Tenant.objects.get_or_create(
        schema_name="public",
        defaults={"slug": "public", "name": "Waqti platform", "plan": "ultimate"},
    )
    for index, host in enumerate(PUBLIC_HOSTS):
        Domain.objects.get_or_create(
            domain=host, defaults={"tenant": tenant, "is_primary": index == 0}
        )


def remove_public_tenant(apps, schema_editor):
    apps.get_model("tenancy", "Tenant").objects.filter(schema_name="public").delete()


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial")]
    operations = [migrations.RunPython(create_public_tenant, remove_public_tenant)]
