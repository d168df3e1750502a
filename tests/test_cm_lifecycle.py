"""An enrollment's life after enrolling (issue 12, dead ends 3, 4, 5, 9, 11): reactivation on a
full caseload, re-enrolling a withdrawn person, final statuses and their undo, reassignment with
a reason, moving a caseload, and correcting a person's identity on the patient page."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cm_program import lifecycle, services
from cm_program.models import Enrollment, EnrollmentStatusChange, SupervisorRequest
from tests.factories import (
    ContingencyManagementFactory,
    CPSSFactory,
    EnrollmentFactory,
    PatientCanonicalFactory,
    StaffUserFactory,
    admin_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor():
    return StaffUserFactory(group="CPSS Supervisor")


def _status(enrollment, to_status, actor, reason="Because"):
    return services.enrollment_status_change(
        enrollment=enrollment, to_status=to_status, reason=reason, actor=actor
    )


# --- Dead end 9: reassignment ---


def test_reassigning_to_the_same_cpss_is_refused(supervisor):
    enrollment = EnrollmentFactory()
    with pytest.raises(ValidationError, match="already with"):
        services.enrollment_cpss_reassign(
            enrollment=enrollment,
            cpss_provider=enrollment.cpss_provider,
            actor=supervisor,
            reason="No-op",
        )


def test_reassigning_without_a_reason_is_refused(supervisor):
    enrollment = EnrollmentFactory()
    with pytest.raises(ValidationError, match="reason"):
        services.enrollment_cpss_reassign(
            enrollment=enrollment, cpss_provider=CPSSFactory(), actor=supervisor, reason=" "
        )


def test_a_reassignment_and_its_reason_are_in_the_patient_history(client, supervisor):
    enrollment = EnrollmentFactory()
    other = CPSSFactory(first_name="Rosa", last_name="Diaz")
    client.force_login(supervisor)
    url = reverse("cm:enrollment-reassign", kwargs={"enrollment_id": enrollment.pk})
    response = client.post(url, {"cpss_provider": other.pk, "reason": "Rosa speaks Spanish"})
    page = client.get(response.url).content.decode()
    assert "CPSS changed" in page
    assert "Rosa Diaz: Rosa speaks Spanish" in page


def test_moving_a_caseload_moves_active_and_paused_enrollments(supervisor):
    departing = CPSSFactory()
    active = EnrollmentFactory(cpss_provider=departing)
    paused = EnrollmentFactory(cpss_provider=departing, status="paused")
    receiver = CPSSFactory(max_caseload=5)
    moved = lifecycle.cpss_caseload_move(
        from_provider=departing, to_providers=[receiver], reason="Leaving", actor=supervisor
    )
    assert moved == 2
    assert set(
        Enrollment.objects.filter(pk__in=[active.pk, paused.pk]).values_list(
            "cpss_provider", flat=True
        )
    ) == {receiver.pk}


def test_moving_a_caseload_spreads_active_ones_within_each_receivers_limit(supervisor):
    departing = CPSSFactory()
    EnrollmentFactory.create_batch(3, cpss_provider=departing)
    small, large = CPSSFactory(max_caseload=1), CPSSFactory(max_caseload=2)
    lifecycle.cpss_caseload_move(
        from_provider=departing, to_providers=[small, large], reason="Leaving", actor=supervisor
    )
    assert Enrollment.objects.filter(cpss_provider=small).count() == 1
    assert Enrollment.objects.filter(cpss_provider=large).count() == 2


def test_moving_a_caseload_without_room_for_all_moves_nothing(client, supervisor):
    departing = CPSSFactory()
    EnrollmentFactory.create_batch(3, cpss_provider=departing)
    receiver = CPSSFactory(max_caseload=2)
    client.force_login(supervisor)
    response = client.post(
        reverse("cm:caseload-move"),
        {"from_provider": departing.pk, "to_providers": [receiver.pk], "reason": "Leaving"},
    )
    assert "Not enough room: 3 active enrollments" in response.content.decode()
    assert Enrollment.objects.filter(cpss_provider=departing).count() == 3


def test_a_cpss_cannot_move_a_caseload(client):
    client.force_login(CPSSFactory().user)
    assert client.get(reverse("cm:caseload-move")).status_code == 403


# --- Dead end 5: final statuses ---


def test_a_final_status_needs_confirmation(client):
    cpss = CPSSFactory()
    enrollment = EnrollmentFactory(cpss_provider=cpss)
    client.force_login(cpss.user)
    url = reverse("cm:enrollment-status", kwargs={"enrollment_id": enrollment.pk})
    response = client.post(url, {"to_status": "graduated", "reason": "Done"}, follow=True)
    assert "tick the box to confirm" in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == "active"
    client.post(url, {"to_status": "graduated", "reason": "Done", "confirm_final": "on"})
    enrollment.refresh_from_db()
    assert enrollment.status == "graduated"


def test_a_supervisor_undoes_a_final_status_within_30_days(client, supervisor):
    enrollment = EnrollmentFactory(status="paused")
    _status(enrollment, "withdrawn", supervisor)
    client.force_login(supervisor)
    url = reverse("cm:enrollment-undo-final", kwargs={"enrollment_id": enrollment.pk})
    client.post(url, {"reason": "Withdrawn by mistake"})
    enrollment.refresh_from_db()
    assert enrollment.status == "paused"
    last = EnrollmentStatusChange.objects.filter(enrollment=enrollment).first()
    assert (last.from_status, last.to_status) == ("withdrawn", "paused")
    assert "Withdrawn by mistake" in last.reason


def test_a_final_status_older_than_30_days_cannot_be_undone(supervisor, monkeypatch):
    enrollment = EnrollmentFactory()
    _status(enrollment, "graduated", supervisor)
    later = timezone.now() + datetime.timedelta(days=31)
    # The history is append-only: time moves instead.
    monkeypatch.setattr(lifecycle.timezone, "now", lambda: later)
    with pytest.raises(ValidationError, match="final"):
        lifecycle.enrollment_final_status_undo(
            enrollment=enrollment, reason="Too late", actor=supervisor
        )


def test_a_cpss_cannot_undo_a_final_status():
    cpss = CPSSFactory()
    enrollment = EnrollmentFactory(cpss_provider=cpss)
    _status(enrollment, "graduated", cpss.user)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        lifecycle.enrollment_final_status_undo(enrollment=enrollment, reason="x", actor=cpss.user)


# --- Dead end 4: re-enrolling a withdrawn person, "already enrolled" ---


def test_a_supervisor_re_enrolls_a_withdrawn_person_with_a_new_date(client, supervisor):
    enrollment = EnrollmentFactory(status="withdrawn")
    client.force_login(supervisor)
    url = reverse("cm:enrollment-reactivate", kwargs={"enrollment_id": enrollment.pk})
    client.post(
        url,
        {
            "cpss_provider": enrollment.cpss_provider_id,
            "enrollment_date": "2026-11-02",
            "reason": "Back from treatment",
        },
    )
    enrollment.refresh_from_db()
    assert enrollment.status == "active"
    assert timezone.localdate(enrollment.enrollment_date) == datetime.date(2026, 11, 2)
    last = EnrollmentStatusChange.objects.filter(enrollment=enrollment).first()
    assert (last.from_status, last.to_status) == ("withdrawn", "active")
    assert "Re-enrolled" in last.reason and "Back from treatment" in last.reason


def test_re_enrolling_needs_a_new_enrollment_date(supervisor):
    enrollment = EnrollmentFactory(status="withdrawn")
    with pytest.raises(ValidationError, match="enrollment date"):
        lifecycle.enrollment_reactivate(enrollment=enrollment, reason="Back", actor=supervisor)


def test_already_enrolled_links_to_the_persons_page(client):
    cpss = CPSSFactory()
    program = ContingencyManagementFactory()
    enrollment = EnrollmentFactory(cpss_provider=cpss, cm_program=program, status="withdrawn")
    client.force_login(cpss.user)
    from cm_program.templatetags.cm_lifecycle import already_enrolled_help

    class Request:
        user = cpss.user

    shown = already_enrolled_help(
        {"request": Request()},
        services.AlreadyEnrolled(enrollment.canonical_patient_id, program),
    )
    assert shown["patient_url"] == reverse(
        "cm:patient-detail", kwargs={"canonical_patient_id": enrollment.canonical_patient_id}
    )
    assert shown["withdrawn"] and shown["reactivate_url"] is None


def test_already_enrolled_on_a_caseload_the_user_cannot_see_says_only_whom_to_ask():
    from cm_program.templatetags.cm_lifecycle import already_enrolled_help

    enrollment = EnrollmentFactory(status="withdrawn")

    class Request:
        user = CPSSFactory().user

    shown = already_enrolled_help(
        {"request": Request()},
        services.AlreadyEnrolled(enrollment.canonical_patient_id, enrollment.cm_program),
    )
    assert shown == {"visible": False}


def test_enrolling_someone_already_in_the_program_offers_their_page(client):
    from tests.test_cm_views import _new_patient_post

    cpss = CPSSFactory()
    program = ContingencyManagementFactory()
    patient = PatientCanonicalFactory(
        first_name="Jessica", last_name="Martinez", date_of_birth=datetime.date(1992, 3, 22)
    )
    EnrollmentFactory(
        cpss_provider=cpss,
        cm_program=program,
        canonical_patient=patient,
        cm_patient__canonical_patient=patient,
    )
    client.force_login(cpss.user)
    data = _new_patient_post(program, cpss, action="confirm", person=f"canonical:{patient.pk}")
    html = client.post(reverse("cm:enroll-new"), data, follow=True).content.decode()
    assert "already enrolled in" in html
    assert reverse("cm:patient-detail", kwargs={"canonical_patient_id": patient.pk}) in html


# --- Dead end 3: reactivating on a full caseload ---


def _full_cpss_with_paused_patient():
    cpss = CPSSFactory(max_caseload=1)
    EnrollmentFactory(cpss_provider=cpss)
    return cpss, EnrollmentFactory(cpss_provider=cpss, status="paused")


def test_a_full_caseload_tells_the_cpss_a_supervisor_can_act(client):
    cpss, paused = _full_cpss_with_paused_patient()
    client.force_login(cpss.user)
    url = reverse("cm:enrollment-status", kwargs={"enrollment_id": paused.pk})
    html = client.post(url, {"to_status": "active", "reason": "Back"}, follow=True).content.decode()
    assert "Choose another CPSS" not in html
    assert "A supervisor can reactivate them" in html
    assert reverse("cm:enrollment-reactivation-request", args=[paused.pk]) in html


def test_the_one_click_request_lands_in_the_supervisor_queue(client, supervisor):
    cpss, paused = _full_cpss_with_paused_patient()
    client.force_login(cpss.user)
    url = reverse("cm:enrollment-reactivation-request", args=[paused.pk])
    client.post(url, {"reason": "Back from detox"})
    client.post(url, {"reason": "Back from detox"})
    request = SupervisorRequest.objects.get()
    assert (request.kind, request.enrollment, request.reason) == (
        "reactivation",
        paused,
        "Back from detox",
    )
    client.force_login(supervisor)
    assert (
        "Reactivation on a full caseload"
        in client.get(reverse("cm:supervisor-requests")).content.decode()
    )


def test_a_supervisor_reactivates_the_request_onto_a_cpss_with_room(client, supervisor):
    cpss, paused = _full_cpss_with_paused_patient()
    request = SupervisorRequest.objects.create(
        kind="reactivation",
        requested_by=cpss.user,
        enrollment=paused,
        cm_program=paused.cm_program,
        reason="Back",
    )
    roomy = CPSSFactory()
    client.force_login(supervisor)
    url = reverse("cm:supervisor-request", kwargs={"request_id": request.pk})
    assert "CPSS" in client.get(url).content.decode()
    response = client.post(
        url, {"decision": "reactivate", "cpss_provider": roomy.pk, "note": "Rosa has room"}
    )
    paused.refresh_from_db()
    request.refresh_from_db()
    assert (paused.status, paused.cpss_provider) == ("active", roomy)
    assert request.status == "reactivated"
    # On to the person, not back to an emptied queue.
    assert response.url == reverse(
        "cm:patient-detail", kwargs={"canonical_patient_id": paused.canonical_patient_id}
    )


def test_only_a_paused_enrollment_can_be_requested_for_reactivation():
    from cm_program.supervisor_requests import supervisor_request_reactivation_create

    cpss = CPSSFactory()
    with pytest.raises(ValidationError, match="paused"):
        supervisor_request_reactivation_create(
            actor=cpss.user, enrollment=EnrollmentFactory(cpss_provider=cpss), reason="Back"
        )


def test_a_cpss_cannot_request_for_a_patient_they_cannot_see(client):
    _, paused = _full_cpss_with_paused_patient()
    client.force_login(CPSSFactory().user)
    url = reverse("cm:enrollment-reactivation-request", args=[paused.pk])
    assert client.post(url, {"reason": "x"}).status_code == 404
    assert not SupervisorRequest.objects.exists()


# --- Dead end 11: identity correction on the patient page ---


def test_a_supervisor_corrects_a_name_with_a_reason(client, supervisor):
    enrollment = EnrollmentFactory()
    patient = enrollment.canonical_patient
    client.force_login(supervisor)
    url = reverse("cm:patient-correct", kwargs={"canonical_patient_id": patient.pk})
    client.post(
        url,
        {
            "first_name": "Jessika",
            "last_name": patient.last_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "reason": "Typo at intake",
        },
    )
    patient.refresh_from_db()
    assert patient.first_name == "Jessika"


def _collision(client, user):
    enrollment = EnrollmentFactory()
    other = PatientCanonicalFactory()
    client.force_login(user)
    url = reverse(
        "cm:patient-correct", kwargs={"canonical_patient_id": enrollment.canonical_patient_id}
    )
    data = {
        "first_name": other.first_name,
        "last_name": other.last_name,
        "date_of_birth": other.date_of_birth.isoformat(),
        "reason": "Same person",
    }
    return enrollment, other, client.post(url, data).content.decode()


def test_a_correction_equal_to_another_person_tells_a_supervisor_to_ask_an_admin(
    client, supervisor
):
    _, other, html = _collision(client, supervisor)
    assert "ask an admin to merge" in html
    assert other.first_name not in html.split("<form", 1)[1].split("<article>", 1)[0]


def test_a_correction_equal_to_another_person_offers_an_admin_the_merge(client):
    enrollment, other, html = _collision(client, admin_user())
    merge = reverse(
        "admin:identity_patientcanonical_merge", args=[other.pk, enrollment.canonical_patient_id]
    )
    assert merge in html


def test_a_cpss_cannot_correct_an_identity(client):
    cpss = CPSSFactory()
    enrollment = EnrollmentFactory(cpss_provider=cpss)
    client.force_login(cpss.user)
    url = reverse(
        "cm:patient-correct", kwargs={"canonical_patient_id": enrollment.canonical_patient_id}
    )
    assert client.get(url).status_code == 403


def test_a_persons_status_summary_is_their_most_engaged_enrollment():
    from cm_program.models import ParticipationStatus as Status

    assert Status.summary(["withdrawn", "paused", "graduated"]) == Status.PAUSED
    assert Status.summary(["graduated", "active"]) == Status.ACTIVE
    assert Status.summary(["withdrawn"]) == Status.WITHDRAWN
    assert Status.summary([]) is None


def _field_errors_tied_to_their_inputs(body):
    """Each field's error has an id that an input's aria-describedby names (read with the input
    by a screen reader), which Django gives every input of a field with errors."""
    errors = re.findall(r'<small class="field-error"(?: id="([^"]*)")?>', body)
    return bool(errors) and all(
        error_id and f'aria-describedby="{error_id}"' in body for error_id in errors
    )


def test_a_missing_decision_is_tied_to_the_decision_choices(client, supervisor):
    cpss, paused = _full_cpss_with_paused_patient()
    request = SupervisorRequest.objects.create(
        kind="reactivation", requested_by=cpss.user, enrollment=paused, reason="Back"
    )
    client.force_login(supervisor)
    url = reverse("cm:supervisor-request", kwargs={"request_id": request.pk})
    response = client.post(url, {"note": ""}, follow=True)
    assert "Choose a decision." in response.content.decode()
    assert _field_errors_tied_to_their_inputs(response.content.decode())


def test_a_missing_receiver_is_tied_to_the_receiver_choices(client, supervisor):
    departing = CPSSFactory()
    client.force_login(supervisor)
    response = client.post(
        reverse("cm:caseload-move"), {"from_provider": departing.pk, "reason": "Leaving"}
    )
    assert _field_errors_tied_to_their_inputs(response.content.decode())
