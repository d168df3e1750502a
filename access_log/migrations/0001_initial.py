"""The page-view log moves here from the audit app: same table, same rows, state only.

The table was created by audit 0001 and keeps its name; only Django's idea of which app owns
the model changes (audit 0002 drops it from the audit app's state). The content type follows,
so the permissions already granted on it stay granted.
"""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    if content_type.objects.filter(app_label="access_log", model="patientaccesslog").exists():
        return
    content_type.objects.filter(app_label="audit", model="patientaccesslog").update(
        app_label="access_log"
    )


def restore_content_type(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="access_log", model="patientaccesslog").update(
        app_label="audit"
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("audit", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PatientAccessLog",
                    fields=[
                        ("id", models.BigAutoField(primary_key=True, serialize=False)),
                        (
                            "username",
                            models.TextField(help_text="The username at the time of the view."),
                        ),
                        (
                            "patient_kind",
                            models.TextField(
                                choices=[
                                    ("canonical", "Canonical patient"),
                                    ("cm", "CM patient"),
                                    ("intakeq", "IntakeQ patient"),
                                ]
                            ),
                        ),
                        ("patient_id", models.UUIDField()),
                        ("path", models.TextField(blank=True, db_default="", default="")),
                        (
                            "viewed_at",
                            models.DateTimeField(
                                db_default=django.db.models.functions.datetime.Now()
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "patient page view",
                        "db_table": "audit_patient_access_log",
                        "ordering": ["-viewed_at", "-id"],
                        "indexes": [
                            models.Index(
                                fields=["patient_kind", "patient_id", "viewed_at"],
                                name="audit_access_patient_idx",
                            ),
                            models.Index(
                                fields=["user", "viewed_at"], name="audit_access_user_idx"
                            ),
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("patient_kind__in", ["canonical", "cm", "intakeq"])
                                ),
                                name="audit_access_patient_kind_check",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
