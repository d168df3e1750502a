"""Pods become a list per program (issue 12, dead end 10).

Existing free-text values are folded: spellings that differ only in case or spaces ("Pod A",
"pod a", "POD  A") become one pod per program, named by its most used spelling, and every
enrollment and pending supervisor request is rewritten to that name. The CPSS Supervisor group
gets manage_pods (existing databases kept their groups as they were).
"""

import uuid

import django.contrib.postgres.functions
import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models

from cm_program.pods import pods_fold
from core.db import grant_to_groups, updated_at_trigger


def fold_pods(apps, schema_editor):
    # The historical models, so this migration keeps working as the models change.
    pods_fold(
        pod_model=apps.get_model("cm_program", "Pod"),
        enrollment_model=apps.get_model("cm_program", "Enrollment"),
        request_model=apps.get_model("cm_program", "SupervisorRequest"),
    )


def grant_supervisors(apps, schema_editor):
    grant_to_groups(
        apps, app_label="cm_program", codename="manage_pods", groups=("CPSS Supervisor",)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cm_program", "0008_status_history_from_any_client"),
        # grant_supervisors makes permissions: their tables must be in their final shape.
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="Pod",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        db_default=django.contrib.postgres.functions.RandomUUID(),
                        default=uuid.uuid4,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        auto_now_add=True,
                        db_default=django.contrib.postgres.functions.TransactionNow(),
                        null=True,
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(
                        auto_now=True,
                        db_default=django.contrib.postgres.functions.TransactionNow(),
                        null=True,
                    ),
                ),
                ("name", models.TextField()),
                ("is_active", models.BooleanField(db_default=True, default=True)),
                (
                    "cm_program",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="pods",
                        to="cm_program.contingencymanagement",
                    ),
                ),
            ],
            options={
                "verbose_name": "pod",
                "db_table": "cm_pods",
                "ordering": ["name"],
                "permissions": [("manage_pods", "Can manage the pods of CM programs")],
                "constraints": [
                    models.UniqueConstraint(
                        django.db.models.functions.text.Lower("name"),
                        models.F("cm_program"),
                        name="cm_pods_program_name_key",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("name__regex", "\\S")),
                        name="cm_pods_name_not_blank_check",
                    ),
                ],
            },
        ),
        updated_at_trigger("cm_pods"),
        migrations.RunPython(fold_pods, migrations.RunPython.noop),
        migrations.RunPython(grant_supervisors, migrations.RunPython.noop),
    ]
