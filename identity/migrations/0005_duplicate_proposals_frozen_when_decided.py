"""A decided duplicate proposal is history: the database refuses to change or delete it, as it
does for decided link proposals. Pending ones may still be decided, or moved by a merge."""

from django.db import migrations

from core.db import append_only_trigger


class Migration(migrations.Migration):
    dependencies = [("identity", "0004_person_name_rules")]

    operations = [
        append_only_trigger(
            "patients_canonical_duplicate_proposal", unless="OLD.status = 'pending'"
        ),
    ]
