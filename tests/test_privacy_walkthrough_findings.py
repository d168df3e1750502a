"""Findings of a privacy and audit-trail walkthrough: Psychiatry's pages, the page-view log,
the change history and the scoping of reports."""

import pytest
from django.urls import reverse

from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_the_history_page_shows_why_an_identity_was_corrected(client, staff_user):
    enrollment = EnrollmentFactory()
    patient = enrollment.canonical_patient
    client.force_login(staff_user("CPSS Supervisor"))
    client.post(
        reverse("cm:patient-correct", args=[patient.pk]),
        {
            "first_name": "Zedekiah",
            "last_name": patient.last_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "reason": "Misspelled at intake, per ID card",
        },
    )
    client.force_login(staff_user("Admin"))
    history = client.get(reverse("audit:patient-history", args=[patient.pk]))
    assert "Misspelled at intake, per ID card" in history.content.decode()
