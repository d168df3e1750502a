"""Models that moved between apps kept their tables, rows and permissions: only Django's state
moved (the page-view log from audit to access_log, LegacyIdMap from cmproject to legacy)."""

import uuid

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from access_log.models import PatientAccessLog
from legacy.models import LegacyIdMap

pytestmark = pytest.mark.django_db

ACCESS_LOG_BEFORE = [("access_log", None)]
ACCESS_LOG_AFTER = [("access_log", "0001_initial"), ("audit", "0002_access_log_moved_out")]
LEGACY_ID_MAP_BEFORE = [("cmproject", "0002_legacy_id_map"), ("legacy", None)]
LEGACY_ID_MAP_AFTER = [("legacy", "0001_initial")]


def migrate_to(targets):
    """Migrate to ``targets`` and return the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1]]).apps


def test_the_page_view_log_keeps_the_table_it_had_in_the_audit_app():
    assert PatientAccessLog._meta.db_table == "audit_patient_access_log"
    assert PatientAccessLog._meta.app_label == "access_log"


def test_moving_the_page_view_log_back_and_forth_loses_no_row():
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_patient_access_log (username, patient_kind, patient_id, path)"
            " VALUES ('before-the-move', 'cm', %s, '/p')",
            [uuid.uuid4()],
        )
    migrate_to(ACCESS_LOG_BEFORE)
    assert ContentType.objects.filter(app_label="audit", model="patientaccesslog").exists()
    migrate_to(ACCESS_LOG_AFTER)
    assert PatientAccessLog.objects.filter(username="before-the-move").count() == 1
    assert ContentType.objects.filter(app_label="access_log", model="patientaccesslog").exists()
    assert not ContentType.objects.filter(app_label="audit", model="patientaccesslog").exists()


def test_rows_written_before_the_move_are_read_by_the_moved_model():
    old_apps = migrate_to(LEGACY_ID_MAP_BEFORE)
    legacy_id, new_id = uuid.uuid4(), uuid.uuid4()
    old_apps.get_model("cmproject", "LegacyIdMap").objects.create(
        legacy_table="patients",
        legacy_id=legacy_id,
        new_table="patients_canonical",
        new_id=new_id,
        outcome="migrated",
    )

    migrate_to(LEGACY_ID_MAP_AFTER)

    row = LegacyIdMap.objects.get(legacy_table="patients", legacy_id=legacy_id)
    assert (row.new_id, row.outcome) == (new_id, "migrated")


def test_the_legacy_id_map_keeps_its_table():
    assert LegacyIdMap._meta.db_table == "legacy_id_map"
    assert LegacyIdMap._meta.app_label == "legacy"


def test_the_content_type_moves_back_and_forth_keeping_its_permissions():
    content_type = ContentType.objects.get(app_label="legacy", model="legacyidmap")
    permissions = set(Permission.objects.filter(content_type=content_type))
    assert permissions

    migrate_to(LEGACY_ID_MAP_BEFORE)
    assert ContentType.objects.get(pk=content_type.pk).app_label == "cmproject"
    migrate_to(LEGACY_ID_MAP_AFTER)

    assert ContentType.objects.get(pk=content_type.pk).app_label == "legacy"
    assert set(Permission.objects.filter(content_type=content_type)) == permissions
    assert not ContentType.objects.filter(app_label="cmproject", model="legacyidmap").exists()


def test_the_admin_group_holds_the_moved_models_permissions():
    admin = Group.objects.get(name="Admin")
    assert admin.permissions.filter(
        content_type__app_label="legacy", codename="view_legacyidmap"
    ).exists()
