"""Status changes reach cm_enrollment_status_changes whoever writes cm_enrollments (issue 12).

The trigger runs at commit (deferred): ``SET CONSTRAINTS ALL IMMEDIATE`` runs it inside the
test's transaction.
"""

import pytest
from django.db import connection

from cm_program.models import EnrollmentStatusChange
from cm_program.services import enrollment_status_change
from tests.factories import EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def commit_point():
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def history(enrollment):
    return list(
        EnrollmentStatusChange.objects.filter(enrollment=enrollment)
        .order_by("changed_at", "from_status")
        .values_list("from_status", "to_status")
    )


def test_a_status_written_straight_into_cm_enrollments_reaches_the_history():
    enrollment = EnrollmentFactory()
    commit_point()

    with connection.cursor() as cursor:
        cursor.execute("UPDATE cm_enrollments SET status = 'paused' WHERE id = %s", [enrollment.pk])
    commit_point()

    change = EnrollmentStatusChange.objects.get(enrollment=enrollment, to_status="paused")
    assert (change.from_status, change.changed_by) == ("active", None)
    assert "directly" in change.reason


def test_an_enrollment_inserted_by_another_client_gets_its_first_history_row():
    enrollment = EnrollmentFactory()

    commit_point()

    assert history(enrollment) == [(None, "active")]


def test_the_service_writes_one_history_row_per_change_not_two():
    enrollment = EnrollmentFactory()
    commit_point()
    actor = UserFactory()

    enrollment_status_change(enrollment=enrollment, to_status="paused", reason="Away", actor=actor)
    enrollment_status_change(enrollment=enrollment, to_status="active", reason="Back", actor=actor)
    commit_point()

    rows = EnrollmentStatusChange.objects.filter(enrollment=enrollment, from_status__isnull=False)
    assert sorted(rows.values_list("to_status", "reason")) == [
        ("active", "Back"),
        ("paused", "Away"),
    ]


def test_an_update_that_keeps_the_status_writes_no_history():
    enrollment = EnrollmentFactory()
    commit_point()

    with connection.cursor() as cursor:
        cursor.execute("UPDATE cm_enrollments SET notes = 'x' WHERE id = %s", [enrollment.pk])
    commit_point()

    assert history(enrollment) == [(None, "active")]


def test_a_status_written_straight_into_cm_enrollments_updates_the_cm_record_status():
    enrollment = EnrollmentFactory()
    commit_point()

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cm_enrollments SET status = 'withdrawn' WHERE id = %s", [enrollment.pk]
        )
    commit_point()

    enrollment.cm_patient.refresh_from_db()
    assert enrollment.cm_patient.status == "withdrawn"
