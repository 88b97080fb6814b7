"""Tenant admins stop being superusers: each tenant schema gets the group "Tenant administrators"
with exactly the permissions of tokens.settings_ui.accounts.TENANT_ADMIN_PERMISSIONS (frozen copy below),
and every superuser of the schema (created by create_tenant_admin / seed_demo before this change)
is demoted; those with is_staff join the group. Operators live in the public schema, which this
tenant app never migrates, so they are untouched.
"""

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations

TENANT_ADMIN_GROUP = "Tenant administrators"
TENANT_ADMIN_PERMISSIONS = (
    "tokens.view_apitoken",
    "tokens.add_apitoken",
    "tokens.change_apitoken",
    "tokens.view_tokenevent",
    "tokens.view_apirequestlog",
    "procurement.view_department",
    "procurement.add_department",
    "procurement.change_department",
    "procurement.view_vendor",
    "procurement.add_vendor",
    "procurement.change_vendor",
    "procurement.view_purchaseorder",
    "procurement.view_purchaseorderitem",
    "procurement.view_purchaseorderevent",
)


def demote_tenant_admins(apps, schema_editor):
    using = schema_editor.connection.alias
    # Permissions are normally created after migrate (post_migrate); this schema may not have
    # the ones we grant yet. create_permissions is idempotent.
    for label in ("tokens", "procurement"):
        app_config = apps.get_app_config(label)
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True  # historical app configs have none
        try:
            create_permissions(app_config, verbosity=0, using=using, apps=apps)
        finally:
            app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    wanted = {tuple(name.split(".")) for name in TENANT_ADMIN_PERMISSIONS}
    permissions = [
        permission
        for permission in Permission.objects.using(using).select_related("content_type")
        if (permission.content_type.app_label, permission.codename) in wanted
    ]
    if len(permissions) != len(wanted):
        raise RuntimeError("tenant admin permissions could not be created")
    group, _created = Group.objects.using(using).get_or_create(name=TENANT_ADMIN_GROUP)
    group.permissions.set(permissions)

    for user in User.objects.using(using).filter(is_superuser=True):
        user.is_superuser = False
        user.save(update_fields=["is_superuser"])
        if user.is_staff:
            user.groups.add(group)


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0002_apirequestlog"),
        ("procurement", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        # Not reversible into superusers on purpose: that would restore the hole.
        migrations.RunPython(demote_tenant_admins, migrations.RunPython.noop),
    ]
