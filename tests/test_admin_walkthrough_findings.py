"""What an administrator's walk through the admin and its commands found (QA, admin side)."""

import pytest
from django.urls import reverse

from cm_program.models import PatientCM
from identity.models import PatientCanonical
from tests.factories import (
    LinkProposalFactory,
    PatientCanonicalFactory,
    PatientCMFactory,
    admin_user,
)

pytestmark = pytest.mark.django_db


def test_the_admin_cannot_delete_a_canonical_patient(client):
    # Every canonical row is someone's medical record; a duplicate is merged, never deleted.
    patient = PatientCanonicalFactory()
    client.force_login(admin_user())

    response = client.post(
        reverse("admin:identity_patientcanonical_delete", args=[patient.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert PatientCanonical.objects.filter(pk=patient.pk).exists()


def test_the_admin_cannot_delete_a_cm_record(client):
    # A CM record detached by a merge must still be there for the unmerge to re-attach it.
    cm_record = PatientCMFactory()
    client.force_login(admin_user())

    response = client.post(
        reverse("admin:cm_program_patientcm_delete", args=[cm_record.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert PatientCM.objects.filter(pk=cm_record.pk).exists()


def test_confirming_a_proposal_left_on_a_merged_person_does_not_link_the_merged_record(client):
    # Both charts were proposed against one IntakeQ row; the merge leaves the merged chart's
    # proposal behind (the kept one already has that pair).
    from identity.services import canonical_patients_merge
    from intakeq_link.models import PatientIntakeQLink

    actor = admin_user()
    keep, merged = PatientCanonicalFactory(), PatientCanonicalFactory()
    kept_proposal = LinkProposalFactory(canonical_patient=keep)
    left_behind = LinkProposalFactory(
        canonical_patient=merged, intakeq_patient=kept_proposal.intakeq_patient
    )
    canonical_patients_merge(keep=keep, merge=merged, actor=actor, reason="Same person")
    client.force_login(actor)

    client.post(
        reverse("admin:intakeq_link_linkproposal_decide", args=[left_behind.pk]),
        {"decision": "same", "confirm": "on"},
    )

    assert not PatientIntakeQLink.objects.filter(canonical_patient=merged).exists()


@pytest.mark.parametrize("date_of_birth", ["2999-01-01", "1899-12-31"])
def test_adding_a_person_in_the_admin_refuses_a_date_of_birth_the_services_refuse(
    client, date_of_birth
):
    client.force_login(admin_user())

    response = client.post(
        reverse("admin:identity_patientcanonical_add"),
        {"first_name": "Ann", "last_name": "Lee", "date_of_birth": date_of_birth},
    )

    assert response.status_code == 200
    assert not PatientCanonical.objects.exists()


def test_a_correction_equal_to_a_merged_person_links_to_a_merge_into_the_kept_person(client):
    from identity.services import canonical_patients_merge

    actor = admin_user()
    kept, merged, patient = (PatientCanonicalFactory() for _ in range(3))
    canonical_patients_merge(keep=kept, merge=merged, actor=actor, reason="Same person")
    client.force_login(actor)

    response = client.post(
        reverse("admin:identity_patientcanonical_correct", args=[patient.pk]),
        {
            "first_name": merged.first_name,
            "last_name": merged.last_name,
            "date_of_birth": merged.date_of_birth.isoformat(),
            "reason": "Typo",
        },
    )

    links = dict(response.context["links"])
    into_kept = reverse("admin:identity_patientcanonical_merge", args=[kept.pk, patient.pk])
    assert links["Merge this person into the other one"] == into_kept


def test_adding_a_link_to_a_row_the_old_cm_app_wrote_is_a_form_error_not_a_server_error(client):
    from intakeq_link.models import PatientIntakeQLink
    from tests.factories import IntakeQPatientFactory

    client.force_login(admin_user())
    written_by_old_app = IntakeQPatientFactory(intakeq_client_id=None)

    response = client.post(
        reverse("admin:intakeq_link_patientintakeqlink_add"),
        {
            "canonical_patient": PatientCanonicalFactory().pk,
            "intakeq_patient": written_by_old_app.pk,
            "confidence_score": "1.00",
        },
    )

    assert response.status_code == 200
    assert not PatientIntakeQLink.objects.exists()


def test_adding_a_link_to_a_merged_person_is_a_form_error_not_a_server_error(client):
    from identity.services import canonical_patients_merge
    from intakeq_link.models import PatientIntakeQLink
    from tests.factories import IntakeQPatientFactory

    actor = admin_user()
    keep, merged = PatientCanonicalFactory(), PatientCanonicalFactory()
    canonical_patients_merge(keep=keep, merge=merged, actor=actor, reason="Same person")
    client.force_login(actor)

    response = client.post(
        reverse("admin:intakeq_link_patientintakeqlink_add"),
        {
            "canonical_patient": merged.pk,
            "intakeq_patient": IntakeQPatientFactory().pk,
            "confidence_score": "1.00",
        },
    )

    assert response.status_code == 200
    assert not PatientIntakeQLink.objects.exists()


def _merge_page(client, keep, merge):
    return client.get(reverse("admin:identity_patientcanonical_merge", args=[keep.pk, merge.pk]))


def test_the_merge_page_of_a_person_into_themself_says_so_and_offers_no_form(client):
    patient = PatientCanonicalFactory()
    client.force_login(admin_user())

    response = _merge_page(client, patient, patient)

    assert "cannot be merged into themself" in response.content.decode()
    assert response.context["form"] is None


def test_the_merge_page_into_a_person_already_merged_says_so_and_offers_no_form(client):
    from identity.services import canonical_patients_merge

    actor = admin_user()
    kept, merged, other = (PatientCanonicalFactory() for _ in range(3))
    canonical_patients_merge(keep=kept, merge=merged, actor=actor, reason="Same person")
    client.force_login(actor)

    response = _merge_page(client, merged, other)

    assert "was merged into another person" in response.content.decode()
    assert response.context["form"] is None


def test_the_merge_page_of_a_person_already_merged_says_so_and_offers_no_form(client):
    from identity.services import canonical_patients_merge

    actor = admin_user()
    kept, merged, other = (PatientCanonicalFactory() for _ in range(3))
    canonical_patients_merge(keep=kept, merge=merged, actor=actor, reason="Same person")
    client.force_login(actor)

    response = _merge_page(client, other, merged)

    assert "is already merged into another person" in response.content.decode()
    assert response.context["form"] is None


@pytest.fixture
def left_behind_link_proposal():
    """A pending link proposal the merge left on the merged person (the kept one has the pair)."""
    from identity.services import canonical_patients_merge

    actor = admin_user()
    keep, merged = PatientCanonicalFactory(), PatientCanonicalFactory()
    kept_proposal = LinkProposalFactory(canonical_patient=keep)
    left_behind = LinkProposalFactory(
        canonical_patient=merged, intakeq_patient=kept_proposal.intakeq_patient
    )
    record = canonical_patients_merge(keep=keep, merge=merged, actor=actor, reason="Same person")
    return actor, keep, left_behind, record


def test_a_link_proposal_left_on_a_merged_person_names_the_kept_person_and_offers_no_link(
    client, left_behind_link_proposal
):
    actor, keep, proposal, _ = left_behind_link_proposal
    client.force_login(actor)

    response = client.get(reverse("admin:intakeq_link_linkproposal_decide", args=[proposal.pk]))

    assert (
        f"This person was merged into {keep}: decide the proposal on {keep}."
        in (response.context["intro"])
    )
    assert "Same person: link them" not in response.content.decode()


def test_an_unmerge_offers_the_link_of_a_proposal_left_on_the_merged_person_again(
    client, left_behind_link_proposal
):
    from identity.services import canonical_patients_unmerge

    actor, _, proposal, record = left_behind_link_proposal
    canonical_patients_unmerge(merge_record=record, actor=actor, reason="Two people")
    client.force_login(actor)

    response = client.get(reverse("admin:intakeq_link_linkproposal_decide", args=[proposal.pk]))

    assert "Same person: link them" in response.content.decode()


def test_a_duplicate_proposal_left_on_a_merged_person_names_the_kept_person_and_offers_no_merge(
    client,
):
    from identity.models import DuplicateProposal
    from identity.services import canonical_patients_merge, duplicate_proposal_queue

    actor = admin_user()
    keep, merged, other = (PatientCanonicalFactory() for _ in range(3))
    duplicate_proposal_queue(patient=keep, other_id=other.pk, score="0.90")
    left_behind = duplicate_proposal_queue(patient=merged, other_id=other.pk, score="0.90")
    canonical_patients_merge(keep=keep, merge=merged, actor=actor, reason="Same person")
    client.force_login(actor)

    response = client.get(reverse("admin:identity_duplicateproposal_decide", args=[left_behind.pk]))

    assert DuplicateProposal.objects.get(pk=left_behind.pk).status == "pending"
    assert (
        f"{merged} was merged into {keep}: decide the proposal on {keep}."
        in (response.context["intro"])
    )
    assert "Same person: preview the merge" not in response.content.decode()


def test_a_link_proposal_left_on_a_person_merged_twice_names_the_last_kept_person(client):
    # A merged into B (leaving A's proposal behind), then B into C: C holds the rows now.
    from identity.services import canonical_patients_merge

    actor = admin_user()
    first, middle, last = (PatientCanonicalFactory() for _ in range(3))
    kept_proposal = LinkProposalFactory(canonical_patient=middle)
    left_behind = LinkProposalFactory(
        canonical_patient=first, intakeq_patient=kept_proposal.intakeq_patient
    )
    canonical_patients_merge(keep=middle, merge=first, actor=actor, reason="Same person")
    canonical_patients_merge(keep=last, merge=middle, actor=actor, reason="Same person")
    client.force_login(actor)

    response = client.get(reverse("admin:intakeq_link_linkproposal_decide", args=[left_behind.pk]))

    assert (
        f"This person was merged into {last}: decide the proposal on {last}."
        in response.context["intro"]
    )


def test_a_duplicate_proposal_left_on_a_person_merged_twice_names_the_last_kept_person(client):
    from identity.services import canonical_patients_merge, duplicate_proposal_queue

    actor = admin_user()
    first, middle, last, other = (PatientCanonicalFactory() for _ in range(4))
    duplicate_proposal_queue(patient=middle, other_id=other.pk, score="0.90")
    left_behind = duplicate_proposal_queue(patient=first, other_id=other.pk, score="0.90")
    canonical_patients_merge(keep=middle, merge=first, actor=actor, reason="Same person")
    canonical_patients_merge(keep=last, merge=middle, actor=actor, reason="Same person")
    client.force_login(actor)

    response = client.get(reverse("admin:identity_duplicateproposal_decide", args=[left_behind.pk]))

    assert (
        f"{first} was merged into {last}: decide the proposal on {last}."
        in response.context["intro"]
    )


def test_following_merges_stops_on_a_loop_only_raw_sql_could_write():
    from identity.selectors import person_kept

    first, second = PatientCanonicalFactory(), PatientCanonicalFactory()
    PatientCanonical.objects.filter(pk=first.pk).update(merged_into=second)
    PatientCanonical.objects.filter(pk=second.pk).update(merged_into=first)

    assert person_kept(PatientCanonical.objects.get(pk=first.pk)) == second
