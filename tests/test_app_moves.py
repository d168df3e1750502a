"""Models that moved between apps kept their tables and rows: only Django's state moved."""

import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from access_log.models import PatientAccessLog

pytestmark = pytest.mark.django_db


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _latest(app_label: str):
    executor = MigrationExecutor(connection)
    return max(key for key in executor.loader.graph.leaf_nodes() if key[0] == app_label)


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
    _migrate([("access_log", None)])
    assert ContentType.objects.filter(app_label="audit", model="patientaccesslog").exists()
    _migrate([_latest("access_log"), _latest("audit")])
    assert PatientAccessLog.objects.filter(username="before-the-move").count() == 1
    assert ContentType.objects.filter(app_label="access_log", model="patientaccesslog").exists()
    assert not ContentType.objects.filter(app_label="audit", model="patientaccesslog").exists()
