import django.contrib.postgres.functions
from django.db import migrations, models

MODEL = "legacyidmap"


def _move_content_type(apps, from_label, to_label):
    """Keep the ContentType row (and so its permissions, held by the Admin group) for the model
    under its new app label, instead of leaving a stale row and creating a new one."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label=to_label, model=MODEL).exists():
        return
    ContentType.objects.filter(app_label=from_label, model=MODEL).update(app_label=to_label)
    # The running process may have cached the row under its old label.
    from django.contrib.contenttypes.models import ContentType as LiveContentType

    LiveContentType.objects.clear_cache()


def content_type_to_legacy(apps, schema_editor):
    _move_content_type(apps, "cmproject", "legacy")


def content_type_to_cmproject(apps, schema_editor):
    _move_content_type(apps, "legacy", "cmproject")


class Migration(migrations.Migration):
    """LegacyIdMap moves here from cmproject (cmproject 0003): state only, the table
    ``legacy_id_map`` and its rows are untouched."""

    initial = True

    dependencies = [
        ("cmproject", "0003_legacy_id_map_to_legacy_app"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="LegacyIdMap",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "legacy_table",
                            models.TextField(
                                choices=[
                                    ("providers", "providers"),
                                    ("patients", "patients"),
                                    ("cm_patients", "cm_patients"),
                                ]
                            ),
                        ),
                        ("legacy_id", models.UUIDField()),
                        ("new_table", models.TextField()),
                        ("new_id", models.UUIDField()),
                        (
                            "outcome",
                            models.TextField(
                                choices=[
                                    ("migrated", "Migrated (new row created)"),
                                    ("merged", "Merged into an existing row"),
                                ]
                            ),
                        ),
                        (
                            "migrated_at",
                            models.DateTimeField(
                                auto_now_add=True,
                                db_default=django.contrib.postgres.functions.TransactionNow(),
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "legacy id mapping",
                        "db_table": "legacy_id_map",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("legacy_table", "legacy_id"),
                                name="legacy_id_map_legacy_key",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("legacy_table__in", ["providers", "patients", "cm_patients"])
                                ),
                                name="legacy_id_map_legacy_table_check",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("outcome__in", ["migrated", "merged"])),
                                name="legacy_id_map_outcome_check",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_legacy, content_type_to_cmproject),
    ]
