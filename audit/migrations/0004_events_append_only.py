"""The event tables refuse TRUNCATE too (pgtrigger's trigger refuses UPDATE and DELETE), and
carry core.db's append-only trigger, by which the database roles know them as history tables."""

from django.db import migrations

from core.db import append_only_trigger


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_context_in_each_event")]

    operations = [
        append_only_trigger(table)
        for table in (
            "audit_cm_enrollments_event",
            "audit_patients_canonical_event",
            "audit_patients_cm_event",
            "audit_patients_intakeq_link_event",
            "audit_providers_cm_event",
        )
    ]
