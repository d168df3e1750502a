"""What walking through a CPSS's and a CPSS Supervisor's day on the staff pages turned up."""

import pytest
from django.urls import reverse

from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_the_patient_page_links_each_enrollment_to_its_incentives(client, cpss):
    # A paused or graduated participant has no visit due, so the day page never lists them:
    # the patient page is the only way to their ledger, statement and unissued balance.
    enrollment = EnrollmentFactory(cpss_provider=cpss, status="paused")
    url = reverse(
        "cm:patient-detail", kwargs={"canonical_patient_id": enrollment.canonical_patient_id}
    )
    html = client.get(url).content.decode()
    assert reverse("incentives:participant", kwargs={"enrollment_id": enrollment.pk}) in html
