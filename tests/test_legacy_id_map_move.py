"""LegacyIdMap moved from cmproject to the legacy app: same table, same rows, same permissions."""

import uuid

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from legacy.models import LegacyIdMap

pytestmark = pytest.mark.django_db

BEFORE_THE_MOVE = [("cmproject", "0002_legacy_id_map"), ("legacy", None)]
AFTER_THE_MOVE = [("legacy", "0001_initial")]


def migrate_to(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1]]).apps


def test_rows_written_before_the_move_are_read_by_the_moved_model():
    old_apps = migrate_to(BEFORE_THE_MOVE)
    legacy_id, new_id = uuid.uuid4(), uuid.uuid4()
    old_apps.get_model("cmproject", "LegacyIdMap").objects.create(
        legacy_table="patients",
        legacy_id=legacy_id,
        new_table="patients_canonical",
        new_id=new_id,
        outcome="migrated",
    )

    migrate_to(AFTER_THE_MOVE)

    row = LegacyIdMap.objects.get(legacy_table="patients", legacy_id=legacy_id)
    assert (row.new_id, row.outcome) == (new_id, "migrated")


def test_the_model_keeps_its_table():
    assert LegacyIdMap._meta.db_table == "legacy_id_map"
    assert LegacyIdMap._meta.app_label == "legacy"


def test_the_content_type_moves_back_and_forth_keeping_its_permissions():
    content_type = ContentType.objects.get(app_label="legacy", model="legacyidmap")
    permissions = set(Permission.objects.filter(content_type=content_type))
    assert permissions

    migrate_to(BEFORE_THE_MOVE)
    assert ContentType.objects.get(pk=content_type.pk).app_label == "cmproject"
    migrate_to(AFTER_THE_MOVE)

    assert ContentType.objects.get(pk=content_type.pk).app_label == "legacy"
    assert set(Permission.objects.filter(content_type=content_type)) == permissions
    assert not ContentType.objects.filter(app_label="cmproject", model="legacyidmap").exists()


def test_the_admin_group_holds_the_moved_models_permissions():
    admin = Group.objects.get(name="Admin")
    assert admin.permissions.filter(
        content_type__app_label="legacy", codename="view_legacyidmap"
    ).exists()
