"""The staff groups and their permissions (``staff.groups``).

Moved here from the composition root's migration 0001, which is now empty. A database that ran
that one already has its groups: they are left as they are, so changes admins made since then
stand; only a missing group is created.
"""

from django.db import migrations


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from staff.groups import GROUP_PERMISSIONS

    # Permissions are normally made after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, created = Group.objects.get_or_create(name=name)
        if not created:
            continue
        if codenames == "__all__":
            permissions = Permission.objects.all()
        else:
            permissions = []
            for dotted in codenames:
                app_label, codename = dotted.split(".")
                permission = Permission.objects.filter(
                    content_type__app_label=app_label, codename=codename
                ).first()
                # A permission of a model made by a later migration: that migration grants it.
                if permission is not None:
                    permissions.append(permission)
        group.permissions.set(permissions)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("identity", "0002_permissions"),
        ("intakeq_link", "0002_permissions"),
        ("cm_program", "0002_permissions"),
        ("providers", "0001_initial"),
        # After the page-view log moved out of audit: creating permissions while the state still
        # had it in both apps would leave an audit content type that moving it back collides with.
        ("audit", "0002_access_log_moved_out"),
        # Where the groups were made before this app existed: run after it, never twice.
        ("cmproject", "0001_staff_groups"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
