"""The admin: the person with their CM record, IntakeQ link and enrollments; the review queue."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from intakeq_link.models import LinkProposal, PatientIntakeQLink
from tests.factories import (
    EnrollmentFactory,
    LinkProposalFactory,
    PatientIntakeQLinkFactory,
    UserFactory,
    admin_user,
)

pytestmark = pytest.mark.django_db

QUEUE_URL = reverse("admin:intakeq_link_linkproposal_changelist")


def decide_url(proposal):
    return reverse("admin:intakeq_link_linkproposal_decide", args=[proposal.pk])


def test_canonical_patient_page_shows_cm_record_intakeq_link_and_enrollments(client):
    enrollment = EnrollmentFactory()
    canonical = enrollment.canonical_patient
    link = PatientIntakeQLinkFactory(canonical_patient=canonical)
    client.force_login(admin_user())

    response = client.get(reverse("admin:identity_patientcanonical_change", args=[canonical.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Utah Medicaid" in body  # the CM record's insurance
    assert link.intakeq_patient.intakeq_client_id in body
    assert enrollment.cm_program.name in body
    assert enrollment.cpss_provider.last_name in body


def test_review_queue_lists_pending_pairs_only_by_default(client):
    pending = LinkProposalFactory()
    LinkProposalFactory(status="rejected", decided_at="2026-01-01T00:00:00Z")
    client.force_login(admin_user())

    response = client.get(QUEUE_URL)

    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [pending]


def test_reviewer_confirms_a_pair_from_the_admin_and_who_is_recorded(client):
    reviewer = admin_user()
    proposal = LinkProposalFactory()
    client.force_login(reviewer)

    response = client.post(decide_url(proposal), {"decision": "same", "note": "", "confirm": "on"})

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == ("confirmed", reviewer)
    assert PatientIntakeQLink.objects.get().linked_by_user == reviewer


def test_reviewer_rejects_a_pair_from_the_admin_with_a_note(client):
    reviewer = admin_user()
    proposal = LinkProposalFactory()
    client.force_login(reviewer)

    client.post(
        decide_url(proposal),
        {"decision": "different", "note": "Different middle names", "confirm": "on"},
    )

    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == ("rejected", reviewer)
    assert proposal.decision_note == "Different middle names"
    assert PatientIntakeQLink.objects.count() == 0


def test_rejecting_without_a_note_is_refused_on_the_decision_page(client):
    proposal = LinkProposalFactory()
    client.force_login(admin_user())

    response = client.post(
        decide_url(proposal), {"decision": "different", "note": " ", "confirm": "on"}
    )

    assert response.status_code == 200
    assert "Say why these are different people." in response.content.decode()
    assert LinkProposal.objects.get().status == "pending"


def test_a_decision_needs_the_confirmation_box(client):
    proposal = LinkProposalFactory()
    client.force_login(admin_user())

    client.post(decide_url(proposal), {"decision": "same", "note": ""})

    assert LinkProposal.objects.get().status == "pending"


def test_decision_page_shows_both_records_side_by_side_with_reasons_in_words(client):
    proposal = LinkProposalFactory(reasons=["nickname", "same_phone"])
    client.force_login(admin_user())

    body = client.get(decide_url(proposal)).content.decode()

    assert proposal.canonical_patient.last_name in body
    assert proposal.intakeq_patient.last_name in body
    assert proposal.intakeq_patient.email in body
    assert "a first name is a nickname of the other" in body
    assert "same phone number" in body


def test_cpss_staff_cannot_open_or_decide_the_review_queue(client):
    cpss = UserFactory(is_staff=True)
    cpss.groups.add(Group.objects.get(name="CPSS"))
    proposal = LinkProposalFactory()
    client.force_login(cpss)

    listing = client.get(QUEUE_URL)
    client.post(decide_url(proposal), {"decision": "same", "note": "", "confirm": "on"})

    assert listing.status_code == 403
    assert LinkProposal.objects.get().status == "pending"


def test_reviewer_sees_a_proposal_and_the_link_history_pages(client):
    reviewer = admin_user()
    proposal = LinkProposalFactory()
    client.force_login(reviewer)
    client.post(decide_url(proposal), {"decision": "same", "note": "", "confirm": "on"})

    detail = client.get(reverse("admin:intakeq_link_linkproposal_change", args=[proposal.pk]))
    history = client.get(reverse("admin:intakeq_link_linkhistory_changelist"))

    assert detail.status_code == 200
    assert history.status_code == 200
    assert len(history.context["cl"].result_list) == 1
