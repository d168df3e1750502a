"""The status history is append-only in the database: no UPDATE, DELETE or TRUNCATE, whoever the
client is (the site's role cannot anyway: docs/access-and-audit.md, "Database roles")."""

from django.db import migrations

from core.db import append_only_trigger


class Migration(migrations.Migration):
    dependencies = [("cm_program", "0004_supervisor_requests")]

    operations = [append_only_trigger("cm_enrollment_status_changes")]
