"""Linking canonical patients to IntakeQ: one link per side, history, auto-link and review queue."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from intakeq_link.models import LinkHistory, LinkProposal, PatientIntakeQLink
from intakeq_link.selectors import link_proposals_pending
from intakeq_link.services import (
    intakeq_link_create,
    intakeq_link_delete,
    link_proposal_confirm,
    link_proposal_reject,
    propose_links_for,
)
from tests.factories import (
    IntakeQPatientFactory,
    LinkProposalFactory,
    PatientCanonicalFactory,
    PatientIntakeQLinkFactory,
    ProviderCMFactory,
    UserFactory,
    admin_user,
)

pytestmark = pytest.mark.django_db

DOB = datetime.date(1985, 6, 15)


def _person(first="John", last="Smith", dob=DOB):
    canonical = PatientCanonicalFactory(first_name=first, last_name=last, date_of_birth=dob)
    return canonical


def test_link_records_score_staff_user_their_provider_id_and_history():
    reviewer = admin_user()
    provider = ProviderCMFactory(user=reviewer)
    canonical, emr = PatientCanonicalFactory(), IntakeQPatientFactory()

    link = intakeq_link_create(
        canonical_patient=canonical,
        intakeq_patient=emr,
        confidence_score=Decimal("0.93"),
        actor=reviewer,
    )

    link.refresh_from_db()
    assert (link.confidence_score, link.linked_by_user, link.linked_by) == (
        Decimal("0.93"),
        reviewer,
        provider.pk,
    )
    entry = LinkHistory.objects.get()
    assert (entry.action, entry.actor, entry.canonical_patient_id) == (
        "linked",
        reviewer,
        canonical.pk,
    )


def test_linking_a_canonical_patient_already_linked_is_refused_clearly():
    existing = PatientIntakeQLinkFactory()

    with pytest.raises(ValidationError) as excinfo:
        intakeq_link_create(
            canonical_patient=existing.canonical_patient,
            intakeq_patient=IntakeQPatientFactory(),
            confidence_score=Decimal("1.00"),
        )

    assert "already linked" in excinfo.value.message_dict["canonical_patient"][0]
    assert PatientIntakeQLink.objects.count() == 1


def test_linking_an_intakeq_patient_already_linked_is_refused_clearly():
    existing = PatientIntakeQLinkFactory()

    with pytest.raises(ValidationError) as excinfo:
        intakeq_link_create(
            canonical_patient=PatientCanonicalFactory(),
            intakeq_patient=existing.intakeq_patient,
            confidence_score=Decimal("1.00"),
        )

    assert "already linked" in excinfo.value.message_dict["intakeq_patient"][0]


def test_linking_the_same_pair_again_returns_the_existing_link():
    existing = PatientIntakeQLinkFactory()

    again = intakeq_link_create(
        canonical_patient=existing.canonical_patient,
        intakeq_patient=existing.intakeq_patient,
        confidence_score=Decimal("1.00"),
    )

    assert again.pk == existing.pk
    assert LinkHistory.objects.count() == 0


def test_rows_written_by_the_old_cm_app_cannot_be_linked():
    with pytest.raises(ValidationError):
        intakeq_link_create(
            canonical_patient=PatientCanonicalFactory(),
            intakeq_patient=IntakeQPatientFactory(intakeq_client_id=None),
            confidence_score=Decimal("1.00"),
        )
    assert PatientIntakeQLink.objects.count() == 0


@pytest.mark.parametrize("score", ["1.5", "-0.1", "high"])
def test_a_score_outside_zero_to_one_is_refused(score):
    with pytest.raises(ValidationError):
        intakeq_link_create(
            canonical_patient=PatientCanonicalFactory(),
            intakeq_patient=IntakeQPatientFactory(),
            confidence_score=score,
        )


@pytest.mark.django_db(transaction=True)
def test_racing_links_to_one_intakeq_patient_leave_one_link_and_clear_errors():
    emr = IntakeQPatientFactory()
    people = [PatientCanonicalFactory() for _ in range(8)]
    barrier = threading.Barrier(len(people))
    made, refused, other = [], [], []

    def link(canonical):
        try:
            barrier.wait(timeout=30)
            made.append(
                intakeq_link_create(
                    canonical_patient=canonical, intakeq_patient=emr, confidence_score="1.00"
                )
            )
        except ValidationError as exc:
            refused.append(exc)
        except Exception as exc:  # collected, asserted on below
            other.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=link, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert other == []
    assert len(made) == 1
    assert len(refused) == len(people) - 1
    assert all("intakeq_patient" in exc.message_dict for exc in refused)
    assert PatientIntakeQLink.objects.count() == 1


def test_unlink_keeps_the_reason_and_who_in_history():
    reviewer = admin_user()
    link = PatientIntakeQLinkFactory()

    intakeq_link_delete(link=link, actor=reviewer, reason="Linked to the wrong chart")

    assert PatientIntakeQLink.objects.count() == 0
    entry = LinkHistory.objects.get(action="unlinked")
    assert (entry.reason, entry.actor, entry.intakeq_patient_id) == (
        "Linked to the wrong chart",
        reviewer,
        link.intakeq_patient_id,
    )


def test_unlink_needs_a_reason():
    link = PatientIntakeQLinkFactory()

    with pytest.raises(ValidationError):
        intakeq_link_delete(link=link, actor=admin_user(), reason="  ")

    assert PatientIntakeQLink.objects.count() == 1


def test_unlink_as_different_people_means_the_pair_is_never_proposed_again():
    canonical = _person()
    emr = IntakeQPatientFactory(first_name="John", last_name="Smith", date_of_birth=DOB)
    link = PatientIntakeQLinkFactory(canonical_patient=canonical, intakeq_patient=emr)

    intakeq_link_delete(link=link, actor=admin_user(), reason="Twin", different_people=True)
    outcome = propose_links_for(canonical_patient=canonical)

    assert outcome.link is None
    assert outcome.queued == ()
    assert PatientIntakeQLink.objects.count() == 0


def test_staff_outside_admin_cannot_unlink():
    with pytest.raises(PermissionDenied):
        intakeq_link_delete(link=PatientIntakeQLinkFactory(), actor=UserFactory(), reason="x")


def test_proposal_links_automatically_at_or_above_the_threshold(settings):
    settings.CM_AUTO_LINK_MIN_SCORE = 0.97
    canonical = _person()
    emr = IntakeQPatientFactory(first_name="JOHN", last_name="smith", date_of_birth=DOB)
    trigger = UserFactory()

    outcome = propose_links_for(canonical_patient=canonical, actor=trigger)

    assert outcome.link.intakeq_patient_id == emr.pk
    assert outcome.link.confidence_score == Decimal("0.99")
    assert outcome.link.linked_by_user is None  # nobody confirmed it
    entry = LinkHistory.objects.get()
    assert (entry.automatic, entry.actor) == (True, trigger)


def test_a_lower_auto_link_threshold_setting_links_a_nickname_match(settings):
    settings.CM_AUTO_LINK_MIN_SCORE = 0.90
    canonical = _person(first="Robert")
    emr = IntakeQPatientFactory(first_name="Bob", last_name="Smith", date_of_birth=DOB)

    outcome = propose_links_for(canonical_patient=canonical)

    assert outcome.link.intakeq_patient_id == emr.pk


def test_proposal_below_the_threshold_goes_to_the_review_queue():
    canonical = _person(first="Robert")
    emr = IntakeQPatientFactory(first_name="Bob", last_name="Smith", date_of_birth=DOB)

    outcome = propose_links_for(canonical_patient=canonical)

    assert outcome.link is None
    assert [p.intakeq_patient_id for p in outcome.queued] == [emr.pk]
    proposal = LinkProposal.objects.get()
    assert proposal.status == "pending"
    assert "nickname" in proposal.reasons
    assert Decimal("0.70") <= proposal.score < Decimal("0.97")


def test_two_perfect_intakeq_matches_are_queued_not_linked():
    canonical = _person()
    for _ in range(2):
        IntakeQPatientFactory(first_name="John", last_name="Smith", date_of_birth=DOB)

    outcome = propose_links_for(canonical_patient=canonical)

    assert outcome.link is None
    assert len(outcome.queued) == 2


def test_twins_and_rows_of_the_old_cm_app_are_not_proposed():
    canonical = _person(first="Mark")
    IntakeQPatientFactory(first_name="Mary", last_name="Smith", date_of_birth=DOB)
    IntakeQPatientFactory(
        intakeq_client_id=None, first_name="Mark", last_name="Smith", date_of_birth=DOB
    )

    outcome = propose_links_for(canonical_patient=canonical)

    assert (outcome.link, outcome.queued) == (None, ())
    assert LinkProposal.objects.count() == 0


def test_proposing_twice_keeps_one_proposal_per_pair():
    canonical = _person(first="Robert")
    IntakeQPatientFactory(first_name="Bob", last_name="Smith", date_of_birth=DOB)

    propose_links_for(canonical_patient=canonical)
    propose_links_for(canonical_patient=canonical)

    assert LinkProposal.objects.count() == 1


def test_confirming_a_proposal_links_with_who_and_when():
    reviewer = admin_user()
    proposal = LinkProposalFactory(score=Decimal("0.88"))

    link = link_proposal_confirm(proposal=proposal, actor=reviewer)

    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == ("confirmed", reviewer)
    assert proposal.decided_at is not None
    assert (link.confidence_score, link.linked_by_user) == (Decimal("0.88"), reviewer)


def test_confirming_when_the_intakeq_patient_was_linked_meanwhile_fails_clearly():
    proposal = LinkProposalFactory()
    PatientIntakeQLinkFactory(intakeq_patient=proposal.intakeq_patient)

    with pytest.raises(ValidationError):
        link_proposal_confirm(proposal=proposal, actor=admin_user())

    proposal.refresh_from_db()
    assert proposal.status == "pending"


def test_rejected_pair_is_never_proposed_again():
    canonical = _person(first="Robert")
    IntakeQPatientFactory(first_name="Bob", last_name="Smith", date_of_birth=DOB)
    proposal = propose_links_for(canonical_patient=canonical).queued[0]
    reviewer = admin_user()

    link_proposal_reject(proposal=proposal, actor=reviewer, note="Different middle name")
    outcome = propose_links_for(canonical_patient=canonical)

    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == ("rejected", reviewer)
    assert outcome.queued == ()
    assert list(link_proposals_pending()) == []


def test_staff_without_the_review_permission_cannot_decide():
    proposal = LinkProposalFactory()
    cpss = UserFactory()

    with pytest.raises(PermissionDenied):
        link_proposal_confirm(proposal=proposal, actor=cpss)
    with pytest.raises(PermissionDenied):
        link_proposal_reject(proposal=proposal, actor=cpss)

    proposal.refresh_from_db()
    assert proposal.status == "pending"


def test_a_link_clears_other_pending_proposals_for_either_person():
    reviewer = admin_user()
    chosen = LinkProposalFactory()
    same_canonical = LinkProposalFactory(canonical_patient=chosen.canonical_patient)
    same_emr = LinkProposalFactory(intakeq_patient=chosen.intakeq_patient)

    link_proposal_confirm(proposal=chosen, actor=reviewer)

    remaining = set(LinkProposal.objects.values_list("pk", flat=True))
    assert remaining == {chosen.pk}
    assert same_canonical.pk not in remaining and same_emr.pk not in remaining


def test_a_duplicate_the_pre_check_missed_still_gives_the_clear_error(monkeypatch):
    """The race: another request links between our check and our INSERT; the UNIQUE decides."""
    from intakeq_link import services

    existing = PatientIntakeQLinkFactory()
    real_check = services._refuse_if_either_side_linked
    calls = []

    def check_that_misses_once(canonical_patient, intakeq_patient):
        calls.append(1)
        if len(calls) > 1:
            real_check(canonical_patient, intakeq_patient)

    monkeypatch.setattr(services, "_refuse_if_either_side_linked", check_that_misses_once)

    with pytest.raises(ValidationError) as excinfo:
        intakeq_link_create(
            canonical_patient=PatientCanonicalFactory(),
            intakeq_patient=existing.intakeq_patient,
            confidence_score="1.00",
        )

    assert "already linked" in excinfo.value.message_dict["intakeq_patient"][0]
    assert len(calls) == 2
    assert PatientIntakeQLink.objects.count() == 1
    assert LinkHistory.objects.count() == 0
