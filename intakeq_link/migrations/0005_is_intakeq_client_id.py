from django.db import migrations

from intakeq_link.owner_indexes import owner_index

# One definition of "a row the IntakeQ sync wrote" (intakeq_link.client_ids): a client id that is
# not blank after trimming ASCII whitespace. The old CM app wrote NULL, '' or spaces there.
# A plain SQL function, IMMUTABLE, so the planner inlines it and an index predicate can use it.
CREATE_FUNCTION = r"""
CREATE OR REPLACE FUNCTION cm_is_intakeq_client_id(client_id text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT $1 IS NOT NULL AND btrim($1, E' \t\n\r\x0b\x0c') <> '' $$;
"""
DROP_FUNCTION = "DROP FUNCTION IF EXISTS cm_is_intakeq_client_id(text);"

# The IntakeQ rows by date of birth: what matching and the enrollment search block on. Like
# patients_cm_date_of_birth_idx (0004) it is asked of the table's owners in production
# (docs/identity-and-matching.md, "Indexes") and made here only with CM_MANAGE_INTAKEQ_INDEX.
CREATE_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS patients_cm_intakeq_dob_idx "
    "ON patients (date_of_birth) WHERE cm_is_intakeq_client_id(intakeq_client_id);"
)
DROP_INDEX = "DROP INDEX CONCURRENTLY IF EXISTS patients_cm_intakeq_dob_idx;"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("intakeq_link", "0004_patients_date_of_birth_index"),
    ]

    operations = [
        migrations.RunSQL(CREATE_FUNCTION, reverse_sql=DROP_FUNCTION),
        owner_index(CREATE_INDEX, DROP_INDEX),
    ]
