"""The page-view log now belongs to the access_log app (its 0001); the table stays as it is."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("access_log", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="PatientAccessLog")],
            database_operations=[],
        ),
    ]
