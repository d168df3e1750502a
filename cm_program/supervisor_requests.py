"""Writes for the queue of requests waiting for a supervisor (``SupervisorRequest``).

Kept beside cm_program.services (which enrolls) so that module stays small; the decisions enroll
through its services, so the caseload limit, the one-CM-record rule and the status history are
the same as on the CPSS pages. Every function is one transaction; a decided request is frozen by
the database, and every change is in the audit history (audit.models.SupervisorRequestEvent).
"""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cm_program import selectors, services
from cm_program.lifecycle import enrollment_reactivate
from cm_program.models import (
    ContingencyManagement,
    Enrollment,
    ParticipationStatus,
    PatientCM,
    SupervisorRequest,
)
from identity.models import PatientCanonical
from intakeq_link.models import IntakeQPatient
from providers.models import ProviderCM

DECIDE_PERMISSION = "cm_program.decide_supervisorrequest"


@transaction.atomic
def supervisor_request_create(
    *,
    actor,
    cm_program: ContingencyManagement,
    cpss_provider: ProviderCM | None,
    possible_match: PatientCanonical,
    match_score: Decimal | None = None,
    first_name: str = "",
    last_name: str = "",
    date_of_birth: datetime.date | None = None,
    intakeq_patient: IntakeQPatient | None = None,
    enrollment_source: str | None = None,
    pod_assignment: str | None = None,
    submission_key: str | None = None,
) -> SupervisorRequest:
    """Queue an enrollment a supervisor must decide: the typed identity (Scenario 1) or the
    IntakeQ record picked (Scenario 2), and the person in the CM program it may be.

    The same pending request (same requester, person and program) is returned, not repeated.
    """
    # The form's one-time key, as for an enrollment: a resent form queues nothing twice.
    services.form_submission_claim(key=submission_key, actor=actor)
    fields = {
        "kind": SupervisorRequest.Kind.ENROLLMENT,
        "requested_by": actor,
        "first_name": (first_name or "").strip(),
        "last_name": (last_name or "").strip(),
        "date_of_birth": date_of_birth,
        "intakeq_patient": intakeq_patient,
        "possible_match": possible_match,
        "cm_program": cm_program,
    }
    existing = SupervisorRequest.objects.filter(
        status=SupervisorRequest.Status.PENDING, **fields
    ).first()
    if existing is not None:
        return existing
    request = SupervisorRequest(
        **fields,
        match_score=match_score,
        cpss_provider=cpss_provider,
        enrollment_source=enrollment_source,
        pod_assignment=pod_assignment or None,
    )
    request.full_clean()
    request.save()
    return request


def _pending(supervisor_request: SupervisorRequest, *, actor, note: str, decided: str):
    """The request locked, or None when this supervisor already decided it this way (a resent
    form). Another supervisor's decision is not theirs: they are told who decided what."""
    if actor is None or not actor.has_perm(DECIDE_PERMISSION):
        raise PermissionDenied("Only supervisors decide these requests.")
    locked = SupervisorRequest.objects.select_for_update().get(pk=supervisor_request.pk)
    if locked.status == decided and locked.decided_by_id == actor.pk:
        return None
    if locked.status != SupervisorRequest.Status.PENDING:
        by = locked.decided_by
        who = (by.get_full_name() or by.get_username()) if by else "another supervisor"
        raise ValidationError(
            f"This request was already decided by {who} "
            f"({locked.get_status_display().lower()}); your decision was not saved."
        )
    if not (note or "").strip():
        raise ValidationError({"note": "Say why, for the record."})
    return locked


def _decide(request: SupervisorRequest, *, status: str, actor, note: str, enrollment=None):
    request.status = status
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = note.strip()
    if enrollment is not None:  # a reactivation request keeps the enrollment it is about
        request.enrollment = enrollment
    request.full_clean()
    request.save()
    return request


def _cm_data(request: SupervisorRequest) -> dict:
    return {"enrollment_source": request.enrollment_source or PatientCM.EnrollmentSource.REFERRAL}


@transaction.atomic
def supervisor_request_enroll_same_person(
    *,
    supervisor_request: SupervisorRequest,
    actor,
    cpss_provider: ProviderCM,
    note: str,
    same_person: PatientCanonical | None = None,
    same_intakeq_patient: IntakeQPatient | None = None,
    intakeq_confidence: Decimal | None = None,
) -> SupervisorRequest:
    """'Same person': enroll the existing person onto ``cpss_provider``'s caseload.

    A request made from an IntakeQ record enrolls that record's person; one typed by hand
    enrolls the candidate the supervisor chose (``same_person`` or ``same_intakeq_patient``).
    """
    status = SupervisorRequest.Status.SAME_PERSON
    request = _pending(supervisor_request, actor=actor, note=note, decided=status)
    if request is None:
        return SupervisorRequest.objects.get(pk=supervisor_request.pk)
    common = {
        "actor": actor,
        "cm_data": _cm_data(request),
        "cm_program": request.cm_program,
        "cpss_provider": cpss_provider,
        "pod_assignment": request.pod_assignment,
    }
    if request.intakeq_patient_id is not None:
        intakeq_patient = selectors.intakeq_patient_for_enrollment(pk=request.intakeq_patient_id)
        if intakeq_patient is None:
            raise ValidationError("This IntakeQ record no longer exists.")
        confidence, _ = selectors.intakeq_link_confidence(intakeq_patient=intakeq_patient)
        result = services.cm_patient_enroll_existing(
            intakeq_patient=intakeq_patient, confidence_score=confidence, **common
        )
    else:
        if same_person is None and same_intakeq_patient is None:
            raise ValidationError("Choose the person this is.")
        result = services.cm_patient_enroll_new(
            first_name=request.first_name,
            last_name=request.last_name,
            date_of_birth=request.date_of_birth,
            same_person=same_person,
            same_intakeq_patient=same_intakeq_patient,
            intakeq_confidence=intakeq_confidence,
            **common,
        )
    return _decide(request, status=status, actor=actor, note=note, enrollment=result.enrollment)


@transaction.atomic
def supervisor_request_enroll_new_person(
    *, supervisor_request: SupervisorRequest, actor, cpss_provider: ProviderCM, note: str
) -> SupervisorRequest:
    """'Different people': create the person as typed and enroll them.

    Refused when a person with exactly this name and date of birth exists: one identity cannot
    be two people here, so that one is the same person (or the request is declined).
    """
    status = SupervisorRequest.Status.DIFFERENT_PEOPLE
    request = _pending(supervisor_request, actor=actor, note=note, decided=status)
    if request is None:
        return SupervisorRequest.objects.get(pk=supervisor_request.pk)
    if request.intakeq_patient_id is not None:
        raise ValidationError(
            "This request is for an IntakeQ record already tied to that person: enroll them, "
            "or decline and correct the IntakeQ link."
        )
    result = services.cm_patient_enroll_new(
        actor=actor,
        first_name=request.first_name,
        last_name=request.last_name,
        date_of_birth=request.date_of_birth,
        cm_data=_cm_data(request),
        cm_program=request.cm_program,
        cpss_provider=cpss_provider,
        pod_assignment=request.pod_assignment,
    )
    if not result.canonical_created:
        raise ValidationError(
            "Someone with exactly this name and date of birth is already on file: "
            "they are the same person here. Choose them, or decline."
        )
    return _decide(request, status=status, actor=actor, note=note, enrollment=result.enrollment)


@transaction.atomic
def supervisor_request_decline(
    *, supervisor_request: SupervisorRequest, actor, note: str
) -> SupervisorRequest:
    """Enroll nobody (e.g. they already are in that program); the note says why."""
    status = SupervisorRequest.Status.DECLINED
    request = _pending(supervisor_request, actor=actor, note=note, decided=status)
    if request is None:
        return SupervisorRequest.objects.get(pk=supervisor_request.pk)
    return _decide(request, status=status, actor=actor, note=note)


@transaction.atomic
def supervisor_request_reactivation_create(*, actor, enrollment, reason: str) -> SupervisorRequest:
    """Queue a paused enrollment its CPSS cannot reactivate (their caseload is full): a
    supervisor reactivates it onto a CPSS with room. A pending one is returned, not repeated."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for reactivating them."})
    # Locked before looking for a pending request: a double-click's two POSTs would otherwise
    # both find none and queue two.
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.status != ParticipationStatus.PAUSED:
        raise ValidationError("Only a paused enrollment is reactivated through this request.")
    existing = SupervisorRequest.objects.filter(
        kind=SupervisorRequest.Kind.REACTIVATION,
        status=SupervisorRequest.Status.PENDING,
        enrollment=enrollment,
    ).first()
    if existing is not None:
        return existing
    request = SupervisorRequest(
        kind=SupervisorRequest.Kind.REACTIVATION,
        requested_by=actor,
        enrollment=enrollment,
        possible_match_id=enrollment.canonical_patient_id,
        cm_program_id=enrollment.cm_program_id,
        cpss_provider_id=enrollment.cpss_provider_id,
        reason=reason,
    )
    request.full_clean()
    request.save()
    return request


@transaction.atomic
def supervisor_request_reactivate(
    *, supervisor_request: SupervisorRequest, actor, cpss_provider: ProviderCM, note: str
) -> SupervisorRequest:
    """Reactivate the request's enrollment onto ``cpss_provider`` (cm_program.lifecycle)."""
    status = SupervisorRequest.Status.REACTIVATED
    request = _pending(supervisor_request, actor=actor, note=note, decided=status)
    if request is None:
        return SupervisorRequest.objects.get(pk=supervisor_request.pk)
    if request.kind != SupervisorRequest.Kind.REACTIVATION:
        raise ValidationError("This request is not a reactivation.")
    enrollment_reactivate(
        enrollment=request.enrollment, reason=note, actor=actor, cpss_provider=cpss_provider
    )
    return _decide(request, status=status, actor=actor, note=note)
