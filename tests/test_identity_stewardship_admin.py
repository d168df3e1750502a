"""The admin pages of identity stewardship: merge preview, unmerge, correction, duplicates."""

import pytest
from django.urls import reverse

from identity.models import CanonicalMerge, DuplicateProposal, PatientCanonical
from tests.factories import (
    EnrollmentFactory,
    PatientCanonicalFactory,
    PatientIntakeQLinkFactory,
    admin_user,
)

pytestmark = pytest.mark.django_db


def merge_url(keep, other):
    return reverse("admin:identity_patientcanonical_merge", args=[keep.pk, other.pk])


def test_merge_page_previews_what_moves_side_by_side(client):
    keep, enrollment = PatientCanonicalFactory(), EnrollmentFactory()
    client.force_login(admin_user())

    body = client.get(merge_url(keep, enrollment.canonical_patient)).content.decode()

    assert keep.last_name in body and enrollment.canonical_patient.last_name in body
    assert f"Enrollment in {enrollment.cm_program}" in body
    assert not CanonicalMerge.objects.exists()


def test_merge_page_says_two_intakeq_charts_cannot_be_merged_and_offers_no_form(client):
    keep = PatientIntakeQLinkFactory().canonical_patient
    other = PatientIntakeQLinkFactory().canonical_patient
    client.force_login(admin_user())

    response = client.get(merge_url(keep, other))

    assert "Fix it in IntakeQ first" in response.content.decode()
    assert response.context["form"] is None


def test_merging_from_the_page_needs_confirmation_and_leads_to_the_record(client):
    keep, other = PatientCanonicalFactory(), PatientCanonicalFactory()
    client.force_login(admin_user())

    unconfirmed = client.post(merge_url(keep, other), {"reason": "Same person"})
    confirmed = client.post(merge_url(keep, other), {"reason": "Same person", "confirm": "on"})

    record = CanonicalMerge.objects.get()
    assert unconfirmed.status_code == 200
    assert confirmed.url == reverse("admin:identity_canonicalmerge_change", args=[record.pk])


def test_merge_record_page_offers_unmerge_and_unmerge_page_undoes_it(client):
    keep, other = PatientCanonicalFactory(), PatientCanonicalFactory()
    client.force_login(admin_user())
    client.post(merge_url(keep, other), {"reason": "Same person", "confirm": "on"})
    record = CanonicalMerge.objects.get()
    unmerge_url = reverse("admin:identity_canonicalmerge_unmerge", args=[record.pk])

    page = client.get(reverse("admin:identity_canonicalmerge_change", args=[record.pk]))
    client.post(unmerge_url, {"reason": "Different people", "confirm": "on"})

    assert unmerge_url in page.content.decode()
    assert PatientCanonical.objects.get(pk=other.pk).merged_into is None


def test_correction_page_names_the_other_person_and_links_to_the_merge(client):
    other = PatientCanonicalFactory(first_name="Jessica", last_name="Martinez")
    patient = PatientCanonicalFactory(
        first_name="Jess", last_name="Martinez", date_of_birth=other.date_of_birth
    )
    client.force_login(admin_user())

    response = client.post(
        reverse("admin:identity_patientcanonical_correct", args=[patient.pk]),
        {
            "first_name": "Jessica",
            "last_name": "Martinez",
            "date_of_birth": other.date_of_birth.isoformat(),
            "reason": "Typo",
        },
    )

    body = response.content.decode()
    assert str(other.pk) in body
    assert merge_url(other, patient) in body


def test_rejecting_a_duplicate_from_its_page_needs_a_note(client):
    pair = sorted(PatientCanonicalFactory.create_batch(2), key=lambda p: str(p.pk))
    proposal = DuplicateProposal.objects.create(first=pair[0], second=pair[1], score="0.9")
    url = reverse("admin:identity_duplicateproposal_decide", args=[proposal.pk])
    client.force_login(admin_user())

    client.post(url, {"note": "", "confirm": "on"})
    assert DuplicateProposal.objects.get().status == "pending"
    client.post(url, {"note": "Twins", "confirm": "on"})
    assert DuplicateProposal.objects.get().status == "rejected"


def test_merge_preview_logs_a_view_of_both_people(client):
    from access_log.models import PatientAccessLog

    keep, other = PatientCanonicalFactory(), PatientCanonicalFactory()
    client.force_login(admin_user())

    client.get(merge_url(keep, other))

    logged = set(PatientAccessLog.objects.values_list("patient_kind", "patient_id"))
    assert logged == {("canonical", keep.pk), ("canonical", other.pk)}
