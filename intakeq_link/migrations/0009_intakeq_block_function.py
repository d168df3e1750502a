"""The matcher's block of IntakeQ patients as a PL/pgSQL function (identity.blocking).

Only rows from the IntakeQ sync (cm_is_intakeq_client_id, the one definition of an IntakeQ row):
the old CM app's rows are not EMR patients and must never be proposed as such. Rows without a
date of birth are never proposed: a name alone cannot tell a father from his son. The database
normalizes the names (cm_normalize_name, read from patients_cm_intakeq_block_idx where the
IntakeQ table's owners created it). PL/pgSQL keeps the query's plan for the connection's life.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION cm_intakeq_block(query_first text, query_last text, query_dates date[])
RETURNS TABLE (
    pk uuid, first_name text, last_name text, date_of_birth date,
    first_name_normalized text, last_name_normalized text, phone text, email text
)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    SELECT p.id, p.first_name, p.last_name, p.date_of_birth,
           cm_normalize_name(p.first_name), cm_normalize_name(p.last_name), p.phone, p.email
      FROM patients AS p
     WHERE cm_is_intakeq_client_id(p.intakeq_client_id) AND p.date_of_birth = ANY (query_dates);
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS cm_intakeq_block(text, text, date[]);"


class Migration(migrations.Migration):
    dependencies = [
        ("intakeq_link", "0008_patients_matcher_block_index"),
        ("identity", "0007_canonical_block_function"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
