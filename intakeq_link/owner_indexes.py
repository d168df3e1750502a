"""Indexes on the IntakeQ-owned ``patients`` table, for our migrations.

Django must never alter ``patients`` in production, so these run only where
``CM_MANAGE_INTAKEQ_INDEX`` is on (dev, tests, demo, bench); production asks the table's owners
to run the same statements (docs/identity-and-matching.md, "Indexes"). Write them
``CONCURRENTLY`` (the sync keeps writing while one builds; the migration is then
``atomic = False``) and ``IF [NOT] EXISTS`` (a rerun is harmless).
"""

from django.conf import settings
from django.db import migrations


def owner_index(create_sql: str, drop_sql: str) -> migrations.RunPython:
    def create(apps, schema_editor):
        if getattr(settings, "CM_MANAGE_INTAKEQ_INDEX", False):
            schema_editor.execute(create_sql)

    def drop(apps, schema_editor):
        if getattr(settings, "CM_MANAGE_INTAKEQ_INDEX", False):
            schema_editor.execute(drop_sql)

    return migrations.RunPython(create, drop)
