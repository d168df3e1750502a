"""Status changes written straight into cm_enrollments by other clients reach the history too.

Every row inserted into cm_enrollment_status_changes (by the services or anyone) notes
"<enrollment id>:<to status>" in a transaction-local setting. A deferred constraint trigger on
cm_enrollments runs at commit for each status change (and each new enrollment) and writes a
history row only when none was written for it in that transaction, so the services' own rows
(with their reason and actor) are never doubled, and a savepoint rolled back takes its note with
it. Deferred, because the services update the enrollment before they insert its history row.
"""

from django.db import migrations

NOTE_FUNCTION = """
CREATE OR REPLACE FUNCTION cm_status_change_noted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config(
    'cm.status_changes_written',
    coalesce(current_setting('cm.status_changes_written', true), '')
      || NEW.enrollment_id::text || ':' || NEW.to_status || ';',
    true
  );
  RETURN NULL;
END;
$$;
"""

COMPLETE_FUNCTION = """
CREATE OR REPLACE FUNCTION cm_status_history_complete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  written text := coalesce(current_setting('cm.status_changes_written', true), '');
  note text := NEW.id::text || ':' || NEW.status || ';';
BEGIN
  IF NEW.status IS NULL THEN
    RETURN NULL;
  END IF;
  IF position(note IN written) > 0 THEN
    -- One note answers one change: the next identical change in this transaction needs its own.
    PERFORM set_config('cm.status_changes_written', overlay(written PLACING '' FROM
      position(note IN written) FOR length(note)), true);
    RETURN NULL;
  END IF;
  INSERT INTO cm_enrollment_status_changes (enrollment_id, from_status, to_status, reason)
  VALUES (
    NEW.id,
    CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END,
    NEW.status,
    'Written directly to the database, outside the CM pages'
  );
  -- The row just inserted noted itself; it answers this change only.
  PERFORM set_config('cm.status_changes_written', written, true);
  RETURN NULL;
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("cm_program", "0006_counts_not_negative")]

    operations = [
        migrations.RunSQL(
            sql=[
                NOTE_FUNCTION,
                "CREATE TRIGGER cm_enrollment_status_changes_noted "
                "AFTER INSERT ON cm_enrollment_status_changes "
                "FOR EACH ROW EXECUTE FUNCTION cm_status_change_noted();",
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
                "DROP TRIGGER IF EXISTS cm_enrollment_status_changes_noted "
                "ON cm_enrollment_status_changes;",
                "DROP FUNCTION IF EXISTS cm_status_change_noted();",
            ],
        ),
    ]
