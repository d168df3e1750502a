"""Status changes written straight into cm_enrollments by other clients reach the history too,
and patients_cm.status follows them.

A deferred constraint trigger on cm_enrollments runs at commit for each new enrollment and each
status change. It compares the enrollment's status then with the last row of its history: when
they differ (nobody wrote the history for it), it writes the missing row, from the last recorded
status to the current one. The services write their own row (with reason and actor) in the same
transaction, so theirs is never doubled. Deferred, because the services update the enrollment
before they insert its history row. The row's time is the clock's, not the transaction start,
so it sorts after any row the same transaction wrote earlier.
"""

from django.db import migrations

COMPLETE_FUNCTION = """
CREATE OR REPLACE FUNCTION cm_status_history_complete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  current_status text;
  recorded text;
BEGIN
  SELECT status INTO current_status FROM cm_enrollments WHERE id = NEW.id;
  IF current_status IS NULL THEN
    RETURN NULL;  -- deleted since, or no status to record
  END IF;
  -- patients_cm.status summarizes the enrollments: the most engaged status wins
  -- (cm_program.models.ParticipationStatus.summary); a no-op when the services already set it.
  UPDATE patients_cm SET status = summary.status
  FROM (
    SELECT e.status FROM cm_enrollments e
    WHERE e.cm_patient_id = NEW.cm_patient_id AND e.status IS NOT NULL
    ORDER BY array_position(ARRAY['active', 'paused', 'graduated', 'withdrawn'], e.status)
    LIMIT 1
  ) AS summary
  WHERE patients_cm.id = NEW.cm_patient_id AND patients_cm.status IS DISTINCT FROM summary.status;
  SELECT to_status INTO recorded FROM cm_enrollment_status_changes
  WHERE enrollment_id = NEW.id ORDER BY changed_at DESC LIMIT 1;
  IF recorded IS NOT DISTINCT FROM current_status THEN
    RETURN NULL;
  END IF;
  INSERT INTO cm_enrollment_status_changes
    (enrollment_id, from_status, to_status, reason, changed_at)
  VALUES (
    NEW.id,
    recorded,
    current_status,
    'Written directly to the database, outside the CM pages',
    clock_timestamp()
  );
  RETURN NULL;
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("cm_program", "0007_supervisor_request_reactivation")]

    operations = [
        migrations.RunSQL(
            sql=[
                COMPLETE_FUNCTION,
                "CREATE CONSTRAINT TRIGGER cm_enrollments_status_history "
                "AFTER UPDATE OF status ON cm_enrollments DEFERRABLE INITIALLY DEFERRED "
                "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) "
                "EXECUTE FUNCTION cm_status_history_complete();",
                "CREATE CONSTRAINT TRIGGER cm_enrollments_created_history "
                "AFTER INSERT ON cm_enrollments DEFERRABLE INITIALLY DEFERRED "
                "FOR EACH ROW EXECUTE FUNCTION cm_status_history_complete();",
            ],
            reverse_sql=[
                "DROP TRIGGER IF EXISTS cm_enrollments_created_history ON cm_enrollments;",
                "DROP TRIGGER IF EXISTS cm_enrollments_status_history ON cm_enrollments;",
                "DROP FUNCTION IF EXISTS cm_status_history_complete();",
            ],
        ),
    ]
