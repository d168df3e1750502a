from django.db import migrations


class Migration(migrations.Migration):
    """LegacyIdMap now belongs to the ``legacy`` app (legacy/migrations/0001_initial.py).

    State only: the table ``legacy_id_map`` and its rows stay exactly where they are.
    """

    dependencies = [
        ("cmproject", "0002_legacy_id_map"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="LegacyIdMap")],
            database_operations=[],
        ),
    ]
