"""Writes for the CM program: enrolling people (the seed's two data flows), CM data, statuses.

Both flows run in one transaction: a failure anywhere leaves no canonical row, link, CM record
or enrollment behind.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction

from cm_program.models import (
    ALLOWED_STATUS_TRANSITIONS,
    ContingencyManagement,
    Enrollment,
    EnrollmentStatusChange,
    FormSubmission,
    ParticipationStatus,
    PatientCM,
)
from cm_program.pods import pod_for_enrollment
from cm_program.selectors import cpss_active_count, people_in_cm_hidden_from
from identity.models import PatientCanonical
from identity.services import find_or_create_canonical_patient
from intakeq_link.models import IntakeQPatient, PatientIntakeQLink
from intakeq_link.services import declined_candidates_queue, intakeq_link_create
from providers.models import ProviderCM

# CM data a CPSS may edit; identity lives in patients_canonical, status follows the enrollments.
CM_DATA_FIELDS = (
    "phone",
    "email",
    "insurance_primary",
    "medicaid_id",
    "enrollment_source",
    "consent_date",
    "smartphone_access",
    "emergency_contact_name",
    "emergency_contact_phone",
    "address_street",
    "address_city",
    "address_state",
    "address_zip",
    "preferred_language",
)


class AlreadySubmitted(Exception):  # noqa: N818 - reads as what happened
    """The form's one-time key was used before; ``enrollment`` is what that submit created."""

    def __init__(self, enrollment: Enrollment | None):
        super().__init__("This form was already submitted.")
        self.enrollment = enrollment


class NeedsSupervisor(ValidationError):  # noqa: N818 - reads as what the caller must do
    """The person is in the CM program on a caseload the actor cannot see: enrolling them would
    open their CM record to the actor. Only a supervisor may (cm_program.supervisor_requests)."""

    def __init__(self, canonical_patient: PatientCanonical):
        super().__init__(
            {
                NON_FIELD_ERRORS: (
                    "This person is already in the CM program on another caseload: "
                    "a supervisor has to review this enrollment."
                )
            }
        )
        self.canonical_patient = canonical_patient


class AlreadyEnrolled(ValidationError):  # noqa: N818 - reads as what happened
    """The person has an enrollment in this program already (one per program): the page links
    to them when the user may see them, else says whom to ask (cm_program templatetags)."""

    def __init__(self, canonical_patient_id, cm_program: ContingencyManagement):
        super().__init__({"cm_program": f"This person is already enrolled in {cm_program}."})
        self.canonical_patient_id = canonical_patient_id
        self.cm_program = cm_program


@dataclass(frozen=True)
class EnrollResult:
    enrollment: Enrollment
    canonical_created: bool
    cm_record_reused: bool


@transaction.atomic
def program_get_or_create(*, name: str, description: str = "") -> ContingencyManagement:
    program, _ = ContingencyManagement.objects.get_or_create(
        name=name, defaults={"description": description}
    )
    return program


def _constraint_name(exc: IntegrityError) -> str:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", "") or ""


@transaction.atomic
def cm_patient_create(*, canonical_patient: PatientCanonical, **fields) -> PatientCM:
    """Create the CM record of a canonical patient (one per person; the database enforces it)."""
    cm_patient = PatientCM(canonical_patient=canonical_patient, **fields)
    cm_patient.full_clean()
    try:
        with transaction.atomic():
            cm_patient.save()
    except IntegrityError as exc:
        # A concurrent enrollment of the same person got there first.
        if "canonical_patient" not in _constraint_name(exc):
            raise
        raise ValidationError({NON_FIELD_ERRORS: "This person already has a CM record."}) from exc
    return cm_patient


@transaction.atomic
def cm_patient_update(*, cm_patient: PatientCM, actor, **fields) -> PatientCM:
    """Change CM data (never identity or status). Returns early when nothing changes."""
    unknown = set(fields) - set(CM_DATA_FIELDS)
    if unknown:
        raise ValueError(f"Not editable CM data: {sorted(unknown)}")
    return _save_changed(PatientCM.objects.select_for_update().get(pk=cm_patient.pk), fields)


def _save_changed(instance, fields: dict):
    """Write only the fields whose value differs (a locked, fresh instance); none: no write."""
    changed = [name for name, value in fields.items() if getattr(instance, name) != value]
    if not changed:
        return instance
    for name in changed:
        setattr(instance, name, fields[name])
    instance.full_clean()
    instance.save(update_fields=[*changed, "updated_at"])
    return instance


def cpss_assignment_check(*, provider: ProviderCM) -> ProviderCM:
    """Lock the provider row, then refuse inactive staff and full caseloads.

    Call inside the transaction that assigns: the row lock makes concurrent assignments to the
    same CPSS count one after the other, so together they cannot exceed max_caseload.
    """
    locked = ProviderCM.objects.select_for_update().get(pk=provider.pk)
    if locked.status != ProviderCM.Status.ACTIVE:
        raise ValidationError(
            {"cpss_provider": f"{locked} is inactive and cannot be assigned patients."}
        )
    if locked.max_caseload is not None:
        active = cpss_active_count(provider=locked)
        if active >= locked.max_caseload:
            raise ValidationError(
                {
                    "cpss_provider": (
                        f"{locked}'s caseload is full ({active} of {locked.max_caseload} active "
                        "enrollments). Choose another CPSS."
                    )
                }
            )
    return locked


@transaction.atomic
def enrollment_create(
    *,
    canonical_patient: PatientCanonical,
    cm_patient: PatientCM,
    cm_program: ContingencyManagement,
    cpss_provider: ProviderCM | None = None,
    actor=None,
    **fields,
) -> Enrollment:
    """Enroll; an active enrollment counts against the CPSS's caseload (checked under a lock)."""
    enrollment = Enrollment(
        canonical_patient=canonical_patient,
        cm_patient=cm_patient,
        cm_program=cm_program,
        cpss_provider=cpss_provider,
        **fields,
    )
    if cpss_provider is not None and enrollment.status == ParticipationStatus.ACTIVE:
        cpss_assignment_check(provider=cpss_provider)
    enrollment.full_clean()
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError as exc:
        if "cm_program" not in _constraint_name(exc):
            raise
        raise AlreadyEnrolled(canonical_patient.pk, cm_program) from exc
    EnrollmentStatusChange.objects.create(
        enrollment=enrollment,
        from_status=None,
        to_status=enrollment.status,
        reason="Enrolled",
        changed_by=actor,
    )
    return enrollment


def form_submission_claim(*, key: str | None, actor) -> FormSubmission | None:
    """Claim a form's one-time key in the caller's transaction; AlreadySubmitted when a submit
    of the same form got there first (a double-click). Rolled back with the caller. No key (a
    form that did not carry one): nothing to claim, None."""
    if not key:
        return None
    try:
        with transaction.atomic():
            return FormSubmission.objects.create(key=key, user=actor)
    except IntegrityError:
        # Waited for the first submit's transaction to commit: point at what it made.
        prior = FormSubmission.objects.filter(key=key, user=actor).first()
        raise AlreadySubmitted(prior.enrollment if prior else None) from None


def _enroll_canonical(
    *,
    canonical: PatientCanonical,
    canonical_created: bool,
    cm_data: dict,
    cm_program: ContingencyManagement,
    cpss_provider: ProviderCM,
    actor,
    pod_assignment: str | None,
    notes: str | None,
    submission: FormSubmission | None,
) -> EnrollResult:
    pod_assignment = pod_for_enrollment(cm_program=cm_program, name=pod_assignment)
    if not canonical_created and people_in_cm_hidden_from(actor, pks=[canonical.pk]):
        raise NeedsSupervisor(canonical)
    if Enrollment.objects.filter(canonical_patient=canonical, cm_program=cm_program).exists():
        raise AlreadyEnrolled(canonical.pk, cm_program)
    # One CM record per person: someone joining a second program keeps the record they have
    # (the page says so and links to its edit page) rather than having it overwritten.
    cm_patient = PatientCM.objects.filter(canonical_patient=canonical).first()
    reused = cm_patient is not None
    if cm_patient is None:
        cm_patient = cm_patient_create(canonical_patient=canonical, **cm_data)
    enrollment = enrollment_create(
        canonical_patient=canonical,
        cm_patient=cm_patient,
        cm_program=cm_program,
        cpss_provider=cpss_provider,
        actor=actor,
        pod_assignment=pod_assignment or None,
        notes=notes or None,
    )
    _sync_cm_patient_status(cm_patient)
    if submission is not None:
        submission.enrollment = enrollment
        submission.save(update_fields=["enrollment"])
    return EnrollResult(enrollment, canonical_created, reused)


def _acting_provider_id(actor):
    return ProviderCM.objects.filter(user=actor).values_list("pk", flat=True).first()


def _link_intakeq(
    *, intakeq_patient: IntakeQPatient, confidence_score: Decimal, actor
) -> tuple[PatientCanonical, bool]:
    """The canonical person of an IntakeQ patient: already linked, or found/made and linked."""
    if not intakeq_patient.is_from_intakeq:
        raise ValidationError(
            {NON_FIELD_ERRORS: "That record was written by the old CM app, not by IntakeQ."}
        )
    existing = (
        PatientIntakeQLink.objects.filter(intakeq_patient=intakeq_patient)
        .select_related("canonical_patient")
        .first()
    )
    if existing is not None and existing.canonical_patient is not None:
        return existing.canonical_patient, False
    if intakeq_patient.date_of_birth is None:
        raise ValidationError(
            {NON_FIELD_ERRORS: "This IntakeQ record has no date of birth; fix it in IntakeQ first."}
        )
    canonical, created = find_or_create_canonical_patient(
        first_name=intakeq_patient.first_name,
        last_name=intakeq_patient.last_name,
        date_of_birth=intakeq_patient.date_of_birth,
    )
    if PatientIntakeQLink.objects.filter(canonical_patient=canonical).exists():
        raise ValidationError(
            {NON_FIELD_ERRORS: "This person is already linked to a different IntakeQ record."}
        )
    intakeq_link_create(
        canonical_patient=canonical,
        intakeq_patient=intakeq_patient,
        confidence_score=confidence_score,
        linked_by=_acting_provider_id(actor),
        actor=actor,
    )
    return canonical, created


@transaction.atomic
def cm_patient_enroll_new(
    *,
    actor,
    first_name: str,
    last_name: str,
    date_of_birth: datetime.date,
    cm_data: dict,
    cm_program: ContingencyManagement,
    cpss_provider: ProviderCM,
    pod_assignment: str | None = None,
    notes: str | None = None,
    same_person: PatientCanonical | None = None,
    same_intakeq_patient: IntakeQPatient | None = None,
    intakeq_confidence: Decimal | None = None,
    submission_key: str | None = None,
    declined_candidates=None,
) -> EnrollResult:
    """Scenario 1: a person new to CM (e.g. from acute care).

    ``same_person`` / ``same_intakeq_patient``: the staff member said the matcher's candidate is
    this person. Otherwise the typed identity is found-or-created, so an exact (normalized) match
    is always that person, never a second row; ``declined_candidates`` (the matcher's candidates
    the page showed) then go to the review queues when at or above the review score.
    """
    submission = form_submission_claim(key=submission_key, actor=actor)
    if same_person is not None:
        canonical, created = same_person, False
    elif same_intakeq_patient is not None:
        canonical, created = _link_intakeq(
            intakeq_patient=same_intakeq_patient,
            confidence_score=intakeq_confidence if intakeq_confidence is not None else Decimal(1),
            actor=actor,
        )
    else:
        canonical, created = find_or_create_canonical_patient(
            first_name=first_name, last_name=last_name, date_of_birth=date_of_birth
        )
        if declined_candidates:
            declined_candidates_queue(canonical_patient=canonical, candidates=declined_candidates)
    return _enroll_canonical(
        canonical=canonical,
        canonical_created=created,
        cm_data=cm_data,
        cm_program=cm_program,
        cpss_provider=cpss_provider,
        actor=actor,
        pod_assignment=pod_assignment,
        notes=notes,
        submission=submission,
    )


@transaction.atomic
def cm_patient_enroll_existing(
    *,
    actor,
    intakeq_patient: IntakeQPatient,
    confidence_score: Decimal,
    cm_data: dict,
    cm_program: ContingencyManagement,
    cpss_provider: ProviderCM,
    pod_assignment: str | None = None,
    notes: str | None = None,
    submission_key: str | None = None,
) -> EnrollResult:
    """Scenario 2: an existing Moonlit (IntakeQ) patient joins CM.

    Canonical find-or-create, the IntakeQ link, the CM record and the enrollment: one transaction.
    """
    submission = form_submission_claim(key=submission_key, actor=actor)
    canonical, created = _link_intakeq(
        intakeq_patient=intakeq_patient, confidence_score=confidence_score, actor=actor
    )
    cm_data = {**cm_data, "enrollment_source": PatientCM.EnrollmentSource.EXISTING_PATIENT}
    return _enroll_canonical(
        canonical=canonical,
        canonical_created=created,
        cm_data=cm_data,
        cm_program=cm_program,
        cpss_provider=cpss_provider,
        actor=actor,
        pod_assignment=pod_assignment,
        notes=notes,
        submission=submission,
    )


def _sync_cm_patient_status(cm_patient: PatientCM) -> None:
    statuses = set(
        Enrollment.objects.filter(cm_patient=cm_patient).values_list("status", flat=True)
    )
    summary = ParticipationStatus.summary(statuses)
    if summary is None:
        return
    cm_patient = PatientCM.objects.get(pk=cm_patient.pk)
    if cm_patient.status != summary:
        cm_patient.status = summary
        cm_patient.full_clean()
        cm_patient.save(update_fields=["status", "updated_at"])


@transaction.atomic
def enrollment_status_change(
    *, enrollment: Enrollment, to_status: str, reason: str, actor
) -> Enrollment:
    """Move an enrollment along ALLOWED_STATUS_TRANSITIONS, with a reason kept in its history.

    Going back to active takes a caseload slot, so it is checked like a new assignment.
    """
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("cm_program", "cpss_provider")
        .get(pk=enrollment.pk)
    )
    if enrollment.status == to_status:
        return enrollment
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for this change."})
    current = enrollment.status or ParticipationStatus.ACTIVE
    if to_status not in ALLOWED_STATUS_TRANSITIONS.get(current, frozenset()):
        raise ValidationError(
            {
                "to_status": (
                    f"An enrollment cannot go from {ParticipationStatus(current).label.lower()} "
                    f"to {to_status}."
                )
            }
        )
    if to_status == ParticipationStatus.ACTIVE and enrollment.cpss_provider_id:
        cpss_assignment_check(provider=enrollment.cpss_provider)
    return enrollment_status_write(
        enrollment=enrollment, to_status=to_status, reason=reason, actor=actor
    )


def enrollment_status_write(
    *, enrollment: Enrollment, to_status: str, reason: str, actor, fields=()
) -> Enrollment:
    """Save a locked enrollment's new status (and ``fields`` already set on it), its history
    row and the CM record's summary. Callers have checked the rules (here, cm_program.lifecycle)."""
    from_status = enrollment.status or ParticipationStatus.ACTIVE
    enrollment.status = to_status
    enrollment.full_clean()
    enrollment.save(update_fields=["status", *fields, "updated_at"])
    EnrollmentStatusChange.objects.create(
        enrollment=enrollment,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        changed_by=actor,
    )
    if enrollment.cm_patient_id:
        _sync_cm_patient_status(enrollment.cm_patient)
    return enrollment


@transaction.atomic
def enrollment_cpss_reassign(
    *, enrollment: Enrollment, cpss_provider: ProviderCM, actor, reason: str
) -> Enrollment:
    """Move an enrollment to another CPSS (a supervisor's job: the caller checks reassign_cpss),
    with the reason kept in its status history. Moving it to the CPSS it has is refused.

    An active enrollment takes a slot of the new CPSS's caseload, checked under the same lock as
    a new enrollment; paused and finished ones only need an active CPSS.
    """
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("cpss_provider")
        .get(pk=enrollment.pk)
    )
    if enrollment.cpss_provider_id == cpss_provider.pk:
        raise ValidationError(
            {"cpss_provider": f"This enrollment is already with {cpss_provider}: nothing to move."}
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for this reassignment."})
    if enrollment.status == ParticipationStatus.ACTIVE:
        cpss_assignment_check(provider=cpss_provider)
    elif cpss_provider.status != ProviderCM.Status.ACTIVE:
        raise ValidationError(
            {"cpss_provider": f"{cpss_provider} is inactive and cannot be assigned patients."}
        )
    previous = enrollment.cpss_provider
    enrollment.cpss_provider = cpss_provider
    enrollment.full_clean()
    enrollment.save(update_fields=["cpss_provider", "updated_at"])
    # The history row keeps the status as it is: from == to marks a change of CPSS.
    status = enrollment.status or ParticipationStatus.ACTIVE
    EnrollmentStatusChange.objects.create(
        enrollment=enrollment,
        from_status=status,
        to_status=status,
        reason=f"CPSS {previous or 'none'} → {cpss_provider}: {reason}",
        changed_by=actor,
    )
    return enrollment


@transaction.atomic
def enrollment_points_set(*, enrollment: Enrollment, total_points: int, current_streak: int):
    """Write the points and streak the incentive ledger computed (incentives.services is the
    only caller, inside its own transaction). Returns early when they are already so."""
    if enrollment.total_points == total_points and enrollment.current_streak == current_streak:
        return enrollment
    enrollment.total_points = total_points
    enrollment.current_streak = current_streak
    enrollment.full_clean()
    enrollment.save(update_fields=["total_points", "current_streak", "updated_at"])
    return enrollment


# What an enrollment may change outside its status, CPSS, points and streak (each of which has
# its own service and rule).
ENROLLMENT_DETAIL_FIELDS = ("pod_assignment", "notes", "medicaid_verification")


@transaction.atomic
def enrollment_details_update(*, enrollment: Enrollment, actor, **fields) -> Enrollment:
    """Change an enrollment's pod, notes or Medicaid verification; only what differs is written."""
    unknown = set(fields) - set(ENROLLMENT_DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"Not editable enrollment details: {sorted(unknown)}")
    enrollment = Enrollment.objects.select_for_update(of=("self",)).get(pk=enrollment.pk)
    if "pod_assignment" in fields:
        fields["pod_assignment"] = pod_for_enrollment(
            cm_program=enrollment.cm_program, name=fields["pod_assignment"]
        )
    return _save_changed(enrollment, fields)
