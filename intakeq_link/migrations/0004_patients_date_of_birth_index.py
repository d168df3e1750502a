from django.db import migrations

# The one piece of DDL this project asks of the IntakeQ-owned `patients` table: an index on
# date_of_birth, so matching can block on `date_of_birth IN (...)` instead of scanning the EMR.
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
        migrations.RunSQL(CREATE_INDEX, reverse_sql=DROP_INDEX),
    ]
