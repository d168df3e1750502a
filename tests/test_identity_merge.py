"""Merge, unmerge and correction of canonical patients (identity.services), and the registry."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from audit.models import CanonicalMergeEvent, PatientCanonicalEvent
from cm_program.models import Enrollment, EnrollmentStatusChange, PatientCM
from identity.merging import MERGE, MovePreview, MoveResult, merge_movers, register_merge_mover
from identity.models import CanonicalMerge, DuplicateProposal, PatientCanonical
from identity.services import (
    canonical_patient_correct,
    canonical_patients_merge,
    canonical_patients_unmerge,
    find_or_create_canonical_patient,
)
from intakeq_link.models import LinkHistory, LinkProposal, PatientIntakeQLink
from tests.factories import (
    ContingencyManagementFactory,
    EnrollmentFactory,
    LinkProposalFactory,
    PatientCanonicalFactory,
    PatientCMFactory,
    PatientIntakeQLinkFactory,
    admin_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor():
    return admin_user()


def merge(keep, other, actor, **kwargs):
    return canonical_patients_merge(
        keep=keep, merge=other, actor=actor, reason="Two charts of one person", **kwargs
    )


def test_merge_moves_cm_record_enrollments_link_and_pending_proposals(actor):
    keep = PatientCanonicalFactory()
    enrollment = EnrollmentFactory()
    other = enrollment.canonical_patient
    link = PatientIntakeQLinkFactory(canonical_patient=other)
    proposal = LinkProposalFactory(canonical_patient=other)

    record = merge(keep, other, actor)

    assert PatientCM.objects.get().canonical_patient == keep
    enrollment.refresh_from_db()
    assert (enrollment.canonical_patient, enrollment.cm_patient) == (keep, keep.cm_record)
    assert PatientIntakeQLink.objects.get(pk=link.pk).canonical_patient == keep
    assert LinkProposal.objects.get(pk=proposal.pk).canonical_patient == keep
    other.refresh_from_db()
    assert other.merged_into == keep
    assert (record.keep, record.merged, record.actor) == (keep, other, actor)


def test_merge_writes_the_link_move_to_link_history_and_never_rewrites_it(actor):
    keep, link = PatientCanonicalFactory(), PatientIntakeQLinkFactory()
    other = link.canonical_patient

    merge(keep, other, actor)

    actions = list(
        LinkHistory.objects.order_by("happened_at", "action").values_list(
            "canonical_patient_id", "action"
        )
    )
    assert sorted(actions) == sorted([(other.pk, "unlinked"), (keep.pk, "linked")])


def test_status_history_follows_the_enrollment(actor):
    keep, enrollment = PatientCanonicalFactory(), EnrollmentFactory()
    EnrollmentStatusChange.objects.create(enrollment=enrollment, to_status="active", reason="x")

    merge(keep, enrollment.canonical_patient, actor)

    assert EnrollmentStatusChange.objects.get().enrollment.canonical_patient == keep


def test_two_cm_records_the_kept_one_survives_by_default_and_the_other_is_detached(actor):
    keep_cm, other_cm = PatientCMFactory(), PatientCMFactory()
    keep, other = keep_cm.canonical_patient, other_cm.canonical_patient

    record = merge(keep, other, actor)

    other_cm.refresh_from_db()
    assert other_cm.canonical_patient is None  # detached, never deleted
    assert PatientCM.objects.get(canonical_patient=keep) == keep_cm
    assert len(record.detached) == 1
    assert "CM record" in record.detached[0]["row"]


def test_admin_may_choose_the_merged_persons_enrollment_in_a_shared_program(actor):
    program = ContingencyManagementFactory()
    kept_enrollment = EnrollmentFactory(cm_program=program)
    merged_enrollment = EnrollmentFactory(cm_program=program)
    keep, other = kept_enrollment.canonical_patient, merged_enrollment.canonical_patient

    merge(keep, other, actor, choices={f"enrollment:{program.pk}": MERGE, "cm_record": MERGE})

    kept_enrollment.refresh_from_db()
    merged_enrollment.refresh_from_db()
    assert kept_enrollment.canonical_patient is None
    assert merged_enrollment.canonical_patient == keep
    assert PatientCM.objects.get(canonical_patient=keep) == merged_enrollment.cm_patient


def test_two_different_intakeq_links_cannot_be_merged(actor):
    keep = PatientIntakeQLinkFactory().canonical_patient
    other = PatientIntakeQLinkFactory().canonical_patient

    with pytest.raises(ValidationError, match="different IntakeQ charts"):
        merge(keep, other, actor)

    assert not CanonicalMerge.objects.exists()
    assert PatientCanonical.objects.filter(merged_into__isnull=False).count() == 0


def test_unmerge_puts_every_row_back_and_reattaches_the_detached(actor):
    program = ContingencyManagementFactory()
    kept_enrollment = EnrollmentFactory(cm_program=program)
    merged_enrollment = EnrollmentFactory(cm_program=program)
    keep, other = kept_enrollment.canonical_patient, merged_enrollment.canonical_patient
    link = PatientIntakeQLinkFactory(canonical_patient=other)
    record = merge(keep, other, actor)

    canonical_patients_unmerge(merge_record=record, actor=actor, reason="Not the same person")

    merged_enrollment.refresh_from_db()
    kept_enrollment.refresh_from_db()
    assert merged_enrollment.canonical_patient == other
    assert kept_enrollment.canonical_patient == keep
    assert PatientCM.objects.get(canonical_patient=other) == merged_enrollment.cm_patient
    assert PatientIntakeQLink.objects.get(pk=link.pk).canonical_patient == other
    other.refresh_from_db()
    assert other.merged_into is None
    record.refresh_from_db()
    assert (record.unmerged_by, record.unmerge_reason) == (actor, "Not the same person")


def test_merge_and_unmerge_are_in_the_audit_history(actor):
    keep, other = PatientCanonicalFactory(), PatientCanonicalFactory()
    record = merge(keep, other, actor)
    canonical_patients_unmerge(merge_record=record, actor=actor, reason="Mistake")

    assert CanonicalMergeEvent.objects.filter(pgh_obj_id=record.pk).count() == 2
    merged_into = list(
        PatientCanonicalEvent.objects.filter(pgh_obj_id=other.pk)
        .order_by("pgh_id")
        .values_list("merged_into_id", flat=True)
    )
    assert merged_into[-2:] == [keep.pk, None]


def test_merge_confirms_a_pending_duplicate_proposal_of_the_pair(actor):
    keep, other = PatientCanonicalFactory(), PatientCanonicalFactory()
    first, second = sorted([keep, other], key=lambda p: str(p.pk))
    proposal = DuplicateProposal.objects.create(first=first, second=second, score="0.90")

    merge(keep, other, actor)

    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == ("confirmed", actor)


def test_an_identity_merged_away_is_found_as_the_kept_person(actor):
    keep, other = PatientCanonicalFactory(), PatientCanonicalFactory()
    merge(keep, other, actor)

    found, created = find_or_create_canonical_patient(
        first_name=other.first_name, last_name=other.last_name, date_of_birth=other.date_of_birth
    )

    assert (found, created) == (keep, False)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("self", "into themself"),
        ("into_merged", "merge into that person"),
        ("merged_twice", "already merged"),
        ("blank_reason", "reason"),
    ],
)
def test_bad_merges_are_refused_and_write_nothing(actor, case, message):
    a, b, c = PatientCanonicalFactory(), PatientCanonicalFactory(), PatientCanonicalFactory()
    merge(a, b, actor)
    before = CanonicalMerge.objects.count()
    keep, other, reason = {
        "self": (c, c, "x"),
        "into_merged": (b, c, "x"),
        "merged_twice": (c, b, "x"),
        "blank_reason": (a, c, "  "),
    }[case]

    with pytest.raises(ValidationError, match=message):
        canonical_patients_merge(keep=keep, merge=other, actor=actor, reason=reason)

    assert CanonicalMerge.objects.count() == before


def test_unmerging_twice_is_refused(actor):
    record = merge(PatientCanonicalFactory(), PatientCanonicalFactory(), actor)
    canonical_patients_unmerge(merge_record=record, actor=actor, reason="Mistake")

    with pytest.raises(ValidationError, match="already undone"):
        canonical_patients_unmerge(merge_record=record, actor=actor, reason="Again")


def test_a_registered_mover_of_a_later_app_moves_and_restores_its_rows(actor):
    calls = []

    class IncentivesMover:
        def preview(self, *, keep, merge):
            return MovePreview(moves=("2 incentive payments",))

        def move(self, *, keep, merge, choices, actor):
            calls.append("move")
            return MoveResult(payload={"payments": ["p1", "p2"]})

        def restore(self, *, keep, merge, payload, actor):
            calls.append(("restore", payload["payments"]))

    before = merge_movers()
    register_merge_mover("incentives_test", IncentivesMover())
    try:
        record = merge(PatientCanonicalFactory(), PatientCanonicalFactory(), actor)
        canonical_patients_unmerge(merge_record=record, actor=actor, reason="Mistake")
    finally:
        from identity import merging

        merging._movers.clear()
        merging._movers.update(before)

    assert record.moved["incentives_test"] == {"payments": ["p1", "p2"]}
    assert calls == ["move", ("restore", ["p1", "p2"])]


# --- correction ----------------------------------------------------------------------------


def test_correction_changes_the_name_and_keeps_the_reason_in_the_history(actor):
    patient = PatientCanonicalFactory(first_name="Jess")

    canonical_patient_correct(
        patient=patient, actor=actor, reason="Typed the nickname", first_name="Jessica"
    )

    patient.refresh_from_db()
    assert patient.first_name == "Jessica"
    event = PatientCanonicalEvent.objects.filter(pgh_obj_id=patient.pk).order_by("pgh_id").last()
    assert event.first_name == "Jessica"
    assert event.pgh_context["reason"] == "Typed the nickname"


def test_correction_into_another_persons_identity_names_them_and_offers_the_merge(actor):
    other = PatientCanonicalFactory(first_name="Jessica", last_name="Martinez")
    patient = PatientCanonicalFactory(
        first_name="Jess", last_name="Martinez", date_of_birth=other.date_of_birth
    )

    with pytest.raises(ValidationError) as raised:
        canonical_patient_correct(patient=patient, actor=actor, reason="x", first_name="JESSICA")

    assert raised.value.code == "same_as_other"
    assert str(other.pk) in raised.value.messages[0]
    assert "Merge the two" in raised.value.messages[0]
    patient.refresh_from_db()
    assert patient.first_name == "Jess"


@pytest.mark.parametrize(
    "change",
    [
        {"first_name": "  "},
        {"date_of_birth": datetime.date(2999, 1, 1)},
        {"first_name": "Ann", "reason": ""},
    ],
)
def test_bad_corrections_are_refused_and_write_nothing(actor, change):
    patient = PatientCanonicalFactory(first_name="Anne")
    kwargs = {"reason": "Fix", **change}

    with pytest.raises(ValidationError):
        canonical_patient_correct(patient=patient, actor=actor, **kwargs)

    assert PatientCanonical.objects.get().first_name == "Anne"


def test_find_or_create_takes_one_statement_for_an_existing_person(django_assert_num_queries):
    patient = PatientCanonicalFactory()

    with django_assert_num_queries(1):
        found, created = find_or_create_canonical_patient(
            first_name=patient.first_name,
            last_name=patient.last_name,
            date_of_birth=patient.date_of_birth,
        )

    assert (found, created) == (patient, False)


def test_find_or_create_takes_one_statement_for_a_new_person(django_assert_num_queries):
    with django_assert_num_queries(1):
        patient, created = find_or_create_canonical_patient(
            first_name="Nova", last_name="Quill", date_of_birth="1990-01-02"
        )

    assert created is True
    assert PatientCanonical.objects.get() == patient
    assert Enrollment.objects.count() == 0
