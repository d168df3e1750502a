""" "Who" and "via" move into each event row (pgh_context, JSON), copied from pghistory's shared
context table, whose one row per request could be rewritten by a single UPDATE. pgh_context_id
keeps the id of that row (same column, same index), which still groups a request's events."""

import pghistory.utils
from django.db import migrations, models

TABLES = {
    "enrollmentevent": "audit_cm_enrollments_event",
    "patientcanonicalevent": "audit_patients_canonical_event",
    "patientcmevent": "audit_patients_cm_event",
    "patientintakeqlinkevent": "audit_patients_intakeq_link_event",
    "providercmevent": "audit_providers_cm_event",
}


def _copy_context(table: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        sql=[
            f"ALTER TABLE {table} ADD COLUMN pgh_context jsonb NULL;",
            # The table's append-only trigger (pgtrigger's) would refuse this one-time copy; the
            # owner, who runs migrations, may lift it for this transaction.
            f"ALTER TABLE {table} DISABLE TRIGGER USER;",
            f"UPDATE {table} e SET pgh_context = c.metadata "  # noqa: S608 - fixed names
            "FROM pghistory_context c WHERE c.id = e.pgh_context_id;",
            f"ALTER TABLE {table} ENABLE TRIGGER USER;",
        ],
        reverse_sql=f"ALTER TABLE {table} DROP COLUMN pgh_context;",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_access_log_moved_out"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name=model, name="pgh_context"),
                migrations.AddField(
                    model_name=model,
                    name="pgh_context_id",
                    field=models.UUIDField(db_index=True, null=True),
                ),
                migrations.AddField(
                    model_name=model,
                    name="pgh_context",
                    field=pghistory.utils.JSONField(null=True),
                ),
            ],
            database_operations=[_copy_context(table)],
        )
        for model, table in TABLES.items()
    ]
