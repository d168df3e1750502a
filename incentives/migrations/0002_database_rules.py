"""What the database itself enforces, for every client: the ledger and drug tests are
append-only (UPDATE, DELETE and TRUNCATE refused), a schedule version is frozen once published,
updated_at is kept by trigger, and the staff groups get this app's permissions."""

from django.db import migrations

from core.db import append_only_trigger, updated_at_trigger

# Supervisors correct tests, excuse visits, void entries and read the reports; defining and publishing schedules
# is the Admin group's (which holds every permission already, staff.groups).
GROUP_PERMISSIONS = {"CPSS Supervisor": ["correct_drugtest", "view_incentive_report"]}


def grant_permissions(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("incentives")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label="incentives", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("incentives", "0001_initial"),
        ("staff", "0001_staff_groups"),
    ]

    operations = [
        append_only_trigger("cm_incentive_ledger"),
        append_only_trigger("cm_drug_tests"),
        # A draft may still be edited or deleted; a published version never.
        append_only_trigger("cm_incentive_schedules", unless="OLD.published_at IS NULL"),
        updated_at_trigger("cm_incentive_schedules"),
        updated_at_trigger("cm_incentive_visits"),
        migrations.RunPython(grant_permissions, migrations.RunPython.noop),
    ]
