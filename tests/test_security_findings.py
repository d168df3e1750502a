"""Findings of a security review: each test shows one defect an attacker (or a slip) could use."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_a_withdrawn_person_cannot_be_re_enrolled_with_a_date_in_the_future(client, staff_user):
    # A future enrollment date would refuse every test until then ("dated before the person was
    # enrolled") while the enrollment counts as active; consent dates refuse the future too.
    supervisor = staff_user("CPSS Supervisor")
    enrollment = EnrollmentFactory(status="withdrawn")
    client.force_login(supervisor)
    client.post(
        reverse("cm:enrollment-reactivate", kwargs={"enrollment_id": enrollment.pk}),
        {
            "cpss_provider": enrollment.cpss_provider_id,
            "enrollment_date": (timezone.localdate() + datetime.timedelta(days=1)).isoformat(),
            "reason": "Back from treatment",
        },
    )
    enrollment.refresh_from_db()
    assert enrollment.status == "withdrawn"
