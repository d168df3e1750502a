"""The link history is append-only in the database, and so is a proposal once decided (a pending
one may still be decided, or deleted when the person is linked otherwise)."""

from django.db import migrations

from core.db import append_only_trigger


class Migration(migrations.Migration):
    dependencies = [("intakeq_link", "0006_propose_links_run")]

    operations = [
        append_only_trigger("patients_intakeq_link_history"),
        append_only_trigger("patients_intakeq_link_proposal", unless="OLD.status = 'pending'"),
    ]
