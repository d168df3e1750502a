import datetime

from django.conf import settings
from django.contrib.postgres.functions import TransactionNow
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from core.models import TimestampedModel, UUIDModel
from core.users import is_active_user
from identity.models import PatientCanonical
from intakeq_link.models import IntakeQPatient
from providers.models import ProviderCM


class ParticipationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    GRADUATED = "graduated", "Graduated"
    WITHDRAWN = "withdrawn", "Withdrawn"

    @classmethod
    def summary(cls, statuses) -> "ParticipationStatus | None":
        """What patients_cm.status says of a person's enrollments: the most engaged status
        wins (active, then paused, graduated, withdrawn); None without any."""
        present = set(statuses)
        return next((status for status in cls if status in present), None)


# Which status an enrollment may move to from each status (graduated and withdrawn are final).
ALLOWED_STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    ParticipationStatus.ACTIVE: frozenset(
        {ParticipationStatus.PAUSED, ParticipationStatus.GRADUATED, ParticipationStatus.WITHDRAWN}
    ),
    ParticipationStatus.PAUSED: frozenset(
        {ParticipationStatus.ACTIVE, ParticipationStatus.WITHDRAWN}
    ),
    ParticipationStatus.GRADUATED: frozenset(),
    ParticipationStatus.WITHDRAWN: frozenset(),
}

VIEW_ALL_PERMISSION = "cm_program.view_all_cm_patients"


def sees_every_cm_patient(user) -> bool:
    """Superusers, the Admin group and supervisors (all hold view_all_cm_patients)."""
    return is_active_user(user) and user.has_perm(VIEW_ALL_PERMISSION)


def _is_caseload_holder(user) -> bool:
    return is_active_user(user) and user.has_perm("cm_program.view_enrollment")


class EnrollmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Deny by default: all with view_all_cm_patients, own caseload for CPSS, else none."""
        if sees_every_cm_patient(user):
            return self
        if _is_caseload_holder(user):
            return self.filter(cpss_provider__user=user)
        return self.none()


class PatientCMQuerySet(models.QuerySet):
    def visible_to(self, user):
        """CM records of the people whose enrollments the user may see (same rule as Enrollment)."""
        if sees_every_cm_patient(user):
            return self
        if _is_caseload_holder(user):
            return self.filter(
                models.Exists(
                    Enrollment.objects.filter(
                        cm_patient=models.OuterRef("pk"), cpss_provider__user=user
                    )
                )
            )
        return self.none()


class ContingencyManagement(TimestampedModel):
    """A CM program that people enroll in (the seed references it but leaves its columns open)."""

    name = models.TextField(unique=True)
    description = models.TextField(blank=True, default="", db_default="")
    is_active = models.BooleanField(default=True, db_default=True)

    class Meta:
        db_table = "contingency_management"
        verbose_name = "CM program"
        ordering = ["name"]

    def __str__(self):
        return self.name


class Pod(TimestampedModel):
    """A pod of a CM program: the list its supervisors keep, so every page offers one spelling.

    ``cm_enrollments.pod_assignment`` (the seed's free-text column) holds the pod's name; names
    are unique per program without regard to case (cm_program.pods folds spaces).
    """

    cm_program = models.ForeignKey(
        ContingencyManagement, on_delete=models.PROTECT, related_name="pods"
    )
    name = models.TextField()
    is_active = models.BooleanField(default=True, db_default=True)

    class Meta:
        db_table = "cm_pods"
        verbose_name = "pod"
        ordering = ["name"]
        permissions = [("manage_pods", "Can manage the pods of CM programs")]
        constraints = [
            models.UniqueConstraint(
                Lower("name"), models.F("cm_program"), name="cm_pods_program_name_key"
            ),
            models.CheckConstraint(
                condition=models.Q(name__regex=r"\S"), name="cm_pods_name_not_blank_check"
            ),
        ]

    def __str__(self):
        return self.name


class PatientCM(TimestampedModel):
    """Everything the CM program keeps about a person beyond identity; one per canonical patient."""

    class EnrollmentSource(models.TextChoices):
        ACUTE_CARE = "acute_care", "Acute care"
        OUTPATIENT = "outpatient", "Outpatient"
        REFERRAL = "referral", "Referral"
        EXISTING_PATIENT = "existing_patient", "Existing Moonlit patient"

    class SmartphoneAccess(models.TextChoices):
        YES = "yes", "Yes"
        LIMITED = "limited", "Limited"
        NO = "no", "No"

    canonical_patient = models.OneToOneField(
        PatientCanonical, on_delete=models.PROTECT, null=True, related_name="cm_record"
    )
    phone = models.TextField(null=True, blank=True)
    email = models.TextField(null=True, blank=True)
    insurance_primary = models.TextField(null=True, blank=True)
    medicaid_id = models.TextField(null=True, blank=True)
    enrollment_source = models.TextField(choices=EnrollmentSource, null=True, blank=True)
    consent_date = models.DateTimeField(null=True, blank=True)
    smartphone_access = models.TextField(choices=SmartphoneAccess, null=True, blank=True)
    emergency_contact_name = models.TextField(null=True, blank=True)
    emergency_contact_phone = models.TextField(null=True, blank=True)
    address_street = models.TextField(null=True, blank=True)
    address_city = models.TextField(null=True, blank=True)
    address_state = models.TextField(default="UT", db_default="UT", null=True, blank=True)
    address_zip = models.TextField(null=True, blank=True)
    preferred_language = models.TextField(
        default="English", db_default="English", null=True, blank=True
    )
    status = models.TextField(
        choices=ParticipationStatus,
        default=ParticipationStatus.ACTIVE,
        db_default=ParticipationStatus.ACTIVE,
        null=True,
    )

    objects = PatientCMQuerySet.as_manager()

    def clean(self):
        # The admin and the services store phones as the forms do: one US number, ASCII digits.
        from cm_program.validators import normalize_us_phone

        errors = {}
        for name in ("phone", "emergency_contact_phone"):
            value = getattr(self, name)
            if value and value.strip():
                try:
                    setattr(self, name, normalize_us_phone(value))
                except ValidationError as exc:
                    errors[name] = exc.messages
            elif value is not None:
                setattr(self, name, None)
        if errors:
            raise ValidationError(errors)

    class Meta:
        db_table = "patients_cm"
        verbose_name = "CM patient"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(smartphone_access__in=["yes", "limited", "no"]),
                name="patients_cm_smartphone_access_check",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "paused", "graduated", "withdrawn"]),
                name="patients_cm_status_check",
            ),
        ]

    def __str__(self):
        return f"CM record of {self.canonical_patient}"


class Enrollment(TimestampedModel):
    """A person's enrollment in one CM program, with the points and streak they have earned."""

    canonical_patient = models.ForeignKey(
        PatientCanonical, on_delete=models.PROTECT, null=True, related_name="enrollments"
    )
    cm_patient = models.ForeignKey(
        PatientCM, on_delete=models.PROTECT, null=True, related_name="enrollments"
    )
    cm_program = models.ForeignKey(
        ContingencyManagement, on_delete=models.PROTECT, null=True, related_name="enrollments"
    )
    cpss_provider = models.ForeignKey(
        ProviderCM, on_delete=models.PROTECT, null=True, blank=True, related_name="enrollments"
    )
    total_points = models.IntegerField(
        default=0, db_default=0, null=True, validators=[MinValueValidator(0)]
    )
    current_streak = models.IntegerField(
        default=0, db_default=0, null=True, validators=[MinValueValidator(0)]
    )
    enrollment_date = models.DateTimeField(db_default=TransactionNow(), null=True)
    status = models.TextField(
        choices=ParticipationStatus,
        default=ParticipationStatus.ACTIVE,
        db_default=ParticipationStatus.ACTIVE,
        null=True,
    )
    medicaid_verification = models.JSONField(null=True, blank=True)
    pod_assignment = models.TextField(null=True, blank=True)
    notes = models.TextField(null=True, blank=True)

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        db_table = "cm_enrollments"
        verbose_name = "CM enrollment"
        ordering = ["-enrollment_date"]
        permissions = [
            ("enroll_patient", "Can enroll patients in a CM program"),
            ("view_all_cm_patients", "Can see every CM patient, not only their own caseload"),
            ("reassign_cpss", "Can reassign an enrollment to another CPSS"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["canonical_patient", "cm_program"],
                name="cm_enrollments_canonical_patient_id_cm_program_id_key",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "paused", "graduated", "withdrawn"]),
                name="cm_enrollments_status_check",
            ),
            models.CheckConstraint(
                condition=models.Q(total_points__gte=0),
                name="cm_enrollments_total_points_check",
            ),
            models.CheckConstraint(
                condition=models.Q(current_streak__gte=0),
                name="cm_enrollments_current_streak_check",
            ),
        ]
        indexes = [
            models.Index(fields=["cpss_provider", "status"], name="cm_enrollments_cpss_status_idx"),
            # The CM list's sort orders (cm_program.selectors.LIST_SORTS), so a page reads
            # its rows in order instead of sorting every enrollment.
            models.Index(
                fields=["status", "-enrollment_date", "id"], name="cm_enrollments_status_sort_idx"
            ),
            models.Index(fields=["enrollment_date", "id"], name="cm_enrollments_date_sort_idx"),
            models.Index(fields=["total_points", "id"], name="cm_enrollments_points_sort_idx"),
            # The pod filter's choices (cm_program.selectors.pods_in_use).
            models.Index(fields=["pod_assignment"], name="cm_enrollments_pod_idx"),
        ]

    def __str__(self):
        return f"{self.canonical_patient} in {self.cm_program}"

    @property
    def enrolled_on(self) -> datetime.date | None:
        """The clinic's day of ``enrollment_date``: a re-enrolled person's visits due before it
        belong to their earlier stay."""
        return self.enrollment_date and timezone.localdate(self.enrollment_date)


class EnrollmentStatusChange(UUIDModel):
    """One row per status change of an enrollment (and one for the enrollment itself), never edited.

    Not in the seed. ``from_status`` is NULL for the row written when the enrollment is created.
    """

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.TextField(choices=ParticipationStatus, null=True, blank=True)
    to_status = models.TextField(choices=ParticipationStatus)
    reason = models.TextField()
    # PROTECT: the history is append-only, so a user who wrote it is deactivated, not deleted.
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField(auto_now_add=True, db_default=TransactionNow())

    class Meta:
        db_table = "cm_enrollment_status_changes"
        verbose_name = "enrollment status change"
        ordering = ["-changed_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(to_status__in=["active", "paused", "graduated", "withdrawn"]),
                name="cm_enrollment_status_changes_to_status_check",
            ),
            models.CheckConstraint(
                condition=models.Q(from_status__isnull=True)
                | models.Q(from_status__in=["active", "paused", "graduated", "withdrawn"]),
                name="cm_enrollment_status_changes_from_status_check",
            ),
        ]
        indexes = [
            models.Index(
                fields=["enrollment", "changed_at"],
                name="cm_enrollment_status_chg_idx",
            ),
        ]

    def __str__(self):
        return f"{self.from_status or 'new'} → {self.to_status}"


class FormSubmission(models.Model):
    """A one-time key per enrollment form, so a double-click or a resent POST enrolls once.

    The key is inserted in the enrolling transaction; a concurrent second submit waits on the
    unique index, then finds the first one's enrollment instead of creating anything.
    """

    id = models.BigAutoField(primary_key=True)
    key = models.TextField(unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_default=TransactionNow())

    class Meta:
        db_table = "cm_form_submissions"
        verbose_name = "form submission"

    def __str__(self):
        return self.key


class SupervisorRequest(UUIDModel):
    """A request waiting for a supervisor's decision: one queue for every kind of request.

    ``enrollment``: a CPSS asked to enroll someone who may be a person already in the CM program
    on a caseload they cannot see (issue 11). Only what the decision needs is kept: the typed
    identity (or the IntakeQ record picked), the program, CPSS, pod and enrollment source, and
    the possible match; never contact, insurance or address details. A decided request is
    frozen by the database (append-only unless pending). New kinds add a Kind and statuses.

    ``reactivation`` (issue 12): a CPSS could not reactivate a paused ``enrollment`` because
    their caseload is full; a supervisor reactivates it onto a CPSS with room, or declines.
    ``reason`` is the requester's.
    """

    class Kind(models.TextChoices):
        ENROLLMENT = "enrollment", "Enrollment of a possible match"
        REACTIVATION = "reactivation", "Reactivation on a full caseload"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a supervisor"
        SAME_PERSON = "same_person", "Same person: enrolled"
        DIFFERENT_PEOPLE = "different_people", "Different people: enrolled as a new person"
        DECLINED = "declined", "Not enrolled"
        REACTIVATED = "reactivated", "Reactivated"

    kind = models.TextField(choices=Kind)
    status = models.TextField(choices=Status, default=Status.PENDING, db_default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True, db_default=TransactionNow())
    first_name = models.TextField(blank=True, default="", db_default="")
    last_name = models.TextField(blank=True, default="", db_default="")
    date_of_birth = models.DateField(null=True, blank=True)
    # No FK constraints to people: the IntakeQ sync owns `patients`, and a decided request must
    # not stop identity stewardship from merging or removing a canonical row.
    intakeq_patient = models.ForeignKey(
        IntakeQPatient,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    possible_match = models.ForeignKey(
        PatientCanonical,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    match_score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    cm_program = models.ForeignKey(
        ContingencyManagement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cpss_provider = models.ForeignKey(
        ProviderCM, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pod_assignment = models.TextField(null=True, blank=True)
    enrollment_source = models.TextField(choices=PatientCM.EnrollmentSource, null=True, blank=True)
    reason = models.TextField(blank=True, default="", db_default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, default="", db_default="")
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "cm_supervisor_requests"
        verbose_name = "request for a supervisor"
        ordering = ["requested_at"]
        permissions = [
            ("decide_supervisorrequest", "Can decide requests waiting for a supervisor"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["enrollment", "reactivation"]),
                name="cm_supervisor_requests_kind_check",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=[
                        "pending",
                        "same_person",
                        "different_people",
                        "declined",
                        "reactivated",
                    ]
                ),
                name="cm_supervisor_requests_status_check",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", decided_at__isnull=True)
                | (
                    ~models.Q(status="pending")
                    & models.Q(decided_at__isnull=False, decided_by__isnull=False)
                    & ~models.Q(decision_note="")
                ),
                name="cm_supervisor_requests_decided_check",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["same_person", "different_people", "reactivated"])
                | models.Q(enrollment__isnull=False),
                name="cm_supervisor_requests_enrolled_check",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="reactivation")
                | models.Q(
                    enrollment__isnull=False, status__in=["pending", "reactivated", "declined"]
                ),
                name="cm_supervisor_requests_reactivation_check",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="enrollment")
                | (
                    models.Q(cm_program__isnull=False)
                    & (
                        models.Q(intakeq_patient__isnull=False)
                        | (
                            models.Q(date_of_birth__isnull=False)
                            & ~models.Q(first_name="")
                            & ~models.Q(last_name="")
                        )
                    )
                ),
                name="cm_supervisor_requests_enrollment_check",
            ),
            models.CheckConstraint(
                condition=models.Q(match_score__gte=0, match_score__lte=1),
                name="cm_supervisor_requests_match_score_check",
            ),
        ]
        indexes = [
            models.Index(
                fields=["requested_at"],
                condition=models.Q(status="pending"),
                name="cm_supervisor_requests_queue",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_status_display()})"
