"""A status change written straight into cm_enrollments by another client has no staff member:
the admin's home lists it among recent changes all the same (issue 12)."""

import pytest
from django.db import connection

from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_a_change_made_by_another_client_is_listed_without_a_name(client, staff_user):
    enrollment = EnrollmentFactory()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cm_enrollments SET status = 'paused' WHERE id = %s", [enrollment.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the history trigger runs at commit
    client.force_login(staff_user("Admin"))

    response = client.get("/")

    assert response.status_code == 200
    assert "another client" in response.content.decode()
