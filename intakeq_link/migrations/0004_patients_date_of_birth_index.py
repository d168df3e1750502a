from django.db import migrations

from intakeq_link.owner_indexes import owner_index

# An index on the IntakeQ-owned `patients` table's date_of_birth, so matching can block on
# `date_of_birth IN (...)` instead of scanning the EMR. Django must never alter `patients` in
# production, so this runs only where CM_MANAGE_INTAKEQ_INDEX is on (dev, tests, demo, bench);
# production leaves it to the table's owners (docs/identity-and-matching.md, "Indexes").
# CONCURRENTLY keeps the IntakeQ sync writing while it builds; IF NOT EXISTS makes reruns no-ops.
CREATE_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS patients_cm_date_of_birth_idx "
    "ON patients (date_of_birth);"
)
DROP_INDEX = "DROP INDEX CONCURRENTLY IF EXISTS patients_cm_date_of_birth_idx;"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("intakeq_link", "0003_review_queue_and_history"),
    ]

    operations = [
        owner_index(CREATE_INDEX, DROP_INDEX),
    ]
