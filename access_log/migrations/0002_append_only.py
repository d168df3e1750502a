"""The page-view log refuses TRUNCATE too (its pgtrigger trigger refuses UPDATE and DELETE), and
carries core.db's append-only trigger, by which the database roles know it as a history table."""

from django.db import migrations

from core.db import append_only_trigger


class Migration(migrations.Migration):
    dependencies = [("access_log", "0001_initial")]

    operations = [append_only_trigger("audit_patient_access_log")]
