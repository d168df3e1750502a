"""Findings of a privacy and audit-trail walkthrough: Psychiatry's pages, the page-view log,
the change history and the scoping of reports."""

import pytest
from django.urls import reverse

from access_log.models import PatientAccessLog
from cm_program.services import enrollment_cpss_reassign
from cm_program.supervisor_requests import supervisor_request_reactivation_create
from tests.factories import CPSSFactory, EnrollmentFactory, PatientIntakeQLinkFactory

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


def test_the_home_page_logs_the_person_a_reactivation_request_names_once_off_the_caseload(
    client, staff_user
):
    cpss = CPSSFactory()
    enrollment = EnrollmentFactory(cpss_provider=cpss, status="paused")
    supervisor_request_reactivation_create(actor=cpss.user, enrollment=enrollment, reason="Back")
    enrollment_cpss_reassign(
        enrollment=enrollment,
        cpss_provider=CPSSFactory(),
        actor=staff_user("CPSS Supervisor"),
        reason="Leaving",
    )
    client.force_login(cpss.user)
    home = client.get(reverse("home"))
    assert enrollment.canonical_patient.last_name in home.content.decode()
    assert PatientAccessLog.objects.filter(
        user=cpss.user, patient_kind="canonical", patient_id=enrollment.canonical_patient_id
    ).exists()


def test_a_cpss_is_not_told_the_status_of_an_enrollment_on_another_caseload(client):
    mine = EnrollmentFactory(status="withdrawn", cpss_provider=CPSSFactory())
    EnrollmentFactory(
        status="active",
        canonical_patient=mine.canonical_patient,
        cm_patient=mine.cm_patient,
    )
    mine.cm_patient.status = "active"  # the summary of both enrollments, as the services keep it
    mine.cm_patient.save()
    client.force_login(mine.cpss_provider.user)
    page = client.get(reverse("cm:patient-detail", args=[mine.canonical_patient_id]))
    assert page.status_code == 200
    assert 'class="badge active"' not in page.content.decode()


def test_the_complete_view_logs_the_intakeq_record_it_shows(client, staff_user):
    link = PatientIntakeQLinkFactory()
    admin = staff_user("Admin")
    client.force_login(admin)
    page = client.get(reverse("complete-patient-view", args=[link.canonical_patient_id]))
    assert link.intakeq_patient.phone in page.content.decode()
    assert PatientAccessLog.objects.filter(
        user=admin, patient_kind="intakeq", patient_id=link.intakeq_patient_id
    ).exists()
