"""The seed's two enrollment flows, the caseload rule, status transitions and object scoping."""

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from cm_program import services
from cm_program.models import (
    Enrollment,
    EnrollmentStatusChange,
    ParticipationStatus,
    PatientCM,
)
from cm_program.selectors import canonical_patients_visible_to
from identity.models import PatientCanonical
from intakeq_link.models import PatientIntakeQLink
from tests.factories import (
    ContingencyManagementFactory,
    CPSSFactory,
    EnrollmentFactory,
    IntakeQPatientFactory,
    PatientCanonicalFactory,
    StaffUserFactory,
)

pytestmark = pytest.mark.django_db

CM_DATA = {"phone": "(801) 555-0123", "email": "j@example.com", "enrollment_source": "acute_care"}


def _counts():
    return (
        PatientCanonical.objects.count(),
        PatientCM.objects.count(),
        Enrollment.objects.count(),
        PatientIntakeQLink.objects.count(),
        EnrollmentStatusChange.objects.count(),
    )


def _enroll_new(cpss, program, **kwargs):
    params = {
        "actor": cpss.user,
        "first_name": "Jessica",
        "last_name": "Martinez",
        "date_of_birth": datetime.date(1992, 3, 22),
        "cm_data": CM_DATA,
        "cm_program": program,
        "cpss_provider": cpss,
    }
    return services.cm_patient_enroll_new(**{**params, **kwargs})


def test_scenario_1_creates_identity_cm_record_enrollment_and_first_history_row():
    cpss, program = CPSSFactory(), ContingencyManagementFactory()
    result = _enroll_new(cpss, program)
    enrollment = result.enrollment
    assert result.canonical_created
    assert enrollment.canonical_patient.first_name == "Jessica"
    assert enrollment.cm_patient.phone == "(801) 555-0123"
    assert enrollment.cpss_provider == cpss
    history = list(enrollment.status_changes.all())
    assert [(h.from_status, h.to_status, h.changed_by) for h in history] == [
        (None, "active", cpss.user)
    ]


def test_scenario_1_with_an_exact_normalized_match_uses_that_person():
    cpss, program = CPSSFactory(), ContingencyManagementFactory()
    existing = PatientCanonicalFactory(
        first_name="Jessica", last_name="Martinez", date_of_birth=datetime.date(1992, 3, 22)
    )
    result = _enroll_new(cpss, program, first_name=" jessica", last_name="MARTINEZ ")
    assert result.enrollment.canonical_patient == existing
    assert not result.canonical_created
    assert PatientCanonical.objects.count() == 1


def test_scenario_1_same_person_choice_enrolls_the_chosen_candidate():
    cpss, program = CPSSFactory(), ContingencyManagementFactory()
    chosen = PatientCanonicalFactory(first_name="Jess", last_name="Martinez")
    result = _enroll_new(cpss, program, same_person=chosen)
    assert result.enrollment.canonical_patient == chosen
    assert PatientCanonical.objects.count() == 1


def test_scenario_1_refuses_a_second_enrollment_in_the_same_program():
    cpss, program = CPSSFactory(), ContingencyManagementFactory()
    _enroll_new(cpss, program)
    before = _counts()
    with pytest.raises(ValidationError) as excinfo:
        _enroll_new(cpss, program)
    assert "already enrolled" in excinfo.value.message_dict["cm_program"][0]
    assert _counts() == before


def test_second_program_keeps_the_existing_cm_record():
    cpss = CPSSFactory()
    first = _enroll_new(cpss, ContingencyManagementFactory())
    second = _enroll_new(
        cpss, ContingencyManagementFactory(), cm_data={**CM_DATA, "phone": "(385) 555-0100"}
    )
    assert second.cm_record_reused
    assert second.enrollment.cm_patient == first.enrollment.cm_patient
    assert PatientCM.objects.get().phone == "(801) 555-0123"


def test_scenario_1_failure_midway_leaves_no_rows():
    cpss, program = CPSSFactory(), ContingencyManagementFactory()
    before = _counts()
    with (
        mock.patch.object(services, "enrollment_create", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        _enroll_new(cpss, program)
    assert _counts() == before


def test_scenario_2_links_intakeq_patient_with_confidence_and_acting_cpss():
    cpss, program = CPSSFactory(), ContingencyManagementFactory()
    iq = IntakeQPatientFactory(first_name="John", last_name="Smith")
    result = services.cm_patient_enroll_existing(
        actor=cpss.user,
        intakeq_patient=iq,
        confidence_score=Decimal("1.00"),
        cm_data={"phone": iq.phone, "email": iq.email},
        cm_program=program,
        cpss_provider=cpss,
    )
    link = PatientIntakeQLink.objects.get()
    assert link.canonical_patient == result.enrollment.canonical_patient
    assert link.intakeq_patient_id == iq.pk
    assert link.confidence_score == Decimal("1.00")
    assert link.linked_by == cpss.pk
    assert link.linked_by_user == cpss.user
    assert result.enrollment.cm_patient.enrollment_source == "existing_patient"
    assert result.enrollment.canonical_patient.date_of_birth == iq.date_of_birth


def test_scenario_2_failure_midway_leaves_no_link_no_identity_no_cm_record():
    cpss, program = CPSSFactory(), ContingencyManagementFactory()
    iq = IntakeQPatientFactory()
    before = _counts()
    with (
        mock.patch.object(services, "enrollment_create", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        services.cm_patient_enroll_existing(
            actor=cpss.user,
            intakeq_patient=iq,
            confidence_score=Decimal("1.00"),
            cm_data={},
            cm_program=program,
            cpss_provider=cpss,
        )
    assert _counts() == before


def test_scenario_2_refuses_rows_written_by_the_old_cm_app():
    cpss, program = CPSSFactory(), ContingencyManagementFactory()
    legacy = IntakeQPatientFactory(intakeq_client_id=None)
    with pytest.raises(ValidationError):
        services.cm_patient_enroll_existing(
            actor=cpss.user,
            intakeq_patient=legacy,
            confidence_score=Decimal("1.00"),
            cm_data={},
            cm_program=program,
            cpss_provider=cpss,
        )
    assert PatientIntakeQLink.objects.count() == 0


def test_full_caseload_is_refused_with_a_clear_message():
    cpss = CPSSFactory(max_caseload=1)
    EnrollmentFactory(cpss_provider=cpss)
    with pytest.raises(ValidationError) as excinfo:
        _enroll_new(cpss, ContingencyManagementFactory())
    assert "caseload is full (1 of 1" in excinfo.value.message_dict["cpss_provider"][0]


def test_paused_enrollments_do_not_count_against_the_caseload():
    cpss = CPSSFactory(max_caseload=1)
    EnrollmentFactory(cpss_provider=cpss, status="paused")
    assert _enroll_new(cpss, ContingencyManagementFactory()).enrollment.cpss_provider == cpss


def test_inactive_cpss_cannot_be_assigned():
    cpss = CPSSFactory(status="inactive")
    with pytest.raises(ValidationError) as excinfo:
        _enroll_new(cpss, ContingencyManagementFactory())
    assert "inactive" in excinfo.value.message_dict["cpss_provider"][0]


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        ("active", "paused", True),
        ("active", "graduated", True),
        ("active", "withdrawn", True),
        ("paused", "active", True),
        ("paused", "withdrawn", True),
        ("paused", "graduated", False),
        ("graduated", "active", False),
        ("graduated", "withdrawn", False),
        ("withdrawn", "active", False),
        ("withdrawn", "paused", False),
    ],
)
def test_status_transition_rule(start, target, allowed):
    enrollment = EnrollmentFactory(status=start)
    actor = StaffUserFactory()
    if allowed:
        services.enrollment_status_change(
            enrollment=enrollment, to_status=target, reason="Checked in", actor=actor
        )
        enrollment.refresh_from_db()
        assert enrollment.status == target
        change = enrollment.status_changes.get()
        assert (change.from_status, change.to_status, change.reason) == (
            start,
            target,
            "Checked in",
        )
    else:
        with pytest.raises(ValidationError):
            services.enrollment_status_change(
                enrollment=enrollment, to_status=target, reason="Checked in", actor=actor
            )
        enrollment.refresh_from_db()
        assert enrollment.status == start
        assert not enrollment.status_changes.exists()


def test_status_change_needs_a_reason():
    enrollment = EnrollmentFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.enrollment_status_change(
            enrollment=enrollment, to_status="paused", reason="  ", actor=StaffUserFactory()
        )
    assert "reason" in excinfo.value.message_dict


def test_reactivating_counts_against_the_caseload():
    cpss = CPSSFactory(max_caseload=1)
    paused = EnrollmentFactory(cpss_provider=cpss, status="paused")
    EnrollmentFactory(cpss_provider=cpss)
    with pytest.raises(ValidationError):
        services.enrollment_status_change(
            enrollment=paused, to_status="active", reason="Back", actor=cpss.user
        )


def test_cm_patient_status_follows_the_most_engaged_enrollment():
    cpss = CPSSFactory()
    first = _enroll_new(cpss, ContingencyManagementFactory()).enrollment
    _enroll_new(cpss, ContingencyManagementFactory())
    services.enrollment_status_change(
        enrollment=first, to_status="withdrawn", reason="Moved", actor=cpss.user
    )
    assert PatientCM.objects.get().status == ParticipationStatus.ACTIVE
    second = Enrollment.objects.exclude(pk=first.pk).get()
    services.enrollment_status_change(
        enrollment=second, to_status="paused", reason="Travel", actor=cpss.user
    )
    assert PatientCM.objects.get().status == ParticipationStatus.PAUSED


def test_cpss_sees_only_their_own_caseload():
    mine, theirs = CPSSFactory(), CPSSFactory()
    own = EnrollmentFactory(cpss_provider=mine)
    EnrollmentFactory(cpss_provider=theirs)
    assert list(Enrollment.objects.visible_to(mine.user)) == [own]
    assert list(PatientCM.objects.visible_to(mine.user)) == [own.cm_patient]
    assert list(canonical_patients_visible_to(mine.user)) == [own.canonical_patient]


@pytest.mark.parametrize(("group", "visible"), [("CPSS Supervisor", 2), ("Admin", 2)])
def test_supervisors_and_admins_see_every_enrollment(group, visible):
    EnrollmentFactory.create_batch(2)
    user = StaffUserFactory(group=group)
    assert Enrollment.objects.visible_to(user).count() == visible
    assert canonical_patients_visible_to(user).count() == visible


def test_psychiatry_and_anonymous_users_see_nothing():
    from django.contrib.auth.models import AnonymousUser

    EnrollmentFactory()
    assert not Enrollment.objects.visible_to(StaffUserFactory(group="Psychiatry")).exists()
    assert not Enrollment.objects.visible_to(AnonymousUser()).exists()
    assert not PatientCM.objects.visible_to(AnonymousUser()).exists()


def test_reassigning_an_active_enrollment_respects_the_new_cpss_caseload():
    full = CPSSFactory(max_caseload=1)
    EnrollmentFactory(cpss_provider=full)
    enrollment = EnrollmentFactory()
    with pytest.raises(ValidationError):
        services.enrollment_cpss_reassign(
            enrollment=enrollment,
            cpss_provider=full,
            actor=StaffUserFactory(),
            reason="Caseload balance",
        )
    roomy = CPSSFactory()
    services.enrollment_cpss_reassign(
        enrollment=enrollment,
        cpss_provider=roomy,
        actor=StaffUserFactory(),
        reason="Caseload balance",
    )
    enrollment.refresh_from_db()
    assert enrollment.cpss_provider == roomy


def test_a_paused_enrollment_can_move_to_a_full_but_active_cpss():
    full = CPSSFactory(max_caseload=1)
    EnrollmentFactory(cpss_provider=full)
    paused = EnrollmentFactory(status="paused")
    services.enrollment_cpss_reassign(
        enrollment=paused, cpss_provider=full, actor=StaffUserFactory(), reason="Caseload balance"
    )
    paused.refresh_from_db()
    assert paused.cpss_provider == full
