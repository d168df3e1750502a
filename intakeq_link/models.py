import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.functions import TransactionNow
from django.db import models

from core.models import UUIDModel
from identity.models import PatientCanonical
from intakeq_link.client_ids import is_intakeq_client_id
from intakeq_link.querysets import IntakeQPatientQuerySet, PatientIntakeQLinkQuerySet


class IntakeQPatient(models.Model):
    """The EMR's `patients` table, filled by the IntakeQ sync and owned by it: never migrated here.

    Rows with intakeq_client_id NULL or blank were written by the old CM app, not by IntakeQ
    (intakeq_link.client_ids).
    Columns are those of the legacy tables' contract, tests/fixtures/legacy_schema.sql.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    intakeq_client_id = models.TextField(null=True, blank=True, unique=True)
    first_name = models.TextField()
    last_name = models.TextField()
    date_of_birth = models.DateField(null=True, blank=True)
    phone = models.TextField(null=True, blank=True)
    email = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IntakeQPatientQuerySet.as_manager()

    class Meta:
        managed = False
        db_table = "patients"
        verbose_name = "IntakeQ patient"
        ordering = ["last_name", "first_name"]
        permissions = [
            ("search_intakeqpatient", "Can search IntakeQ patients to enroll one in CM"),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def is_from_intakeq(self) -> bool:
        return is_intakeq_client_id(self.intakeq_client_id)


class PatientIntakeQLink(UUIDModel):
    """Ties one canonical patient to one IntakeQ patient (one link per side)."""

    canonical_patient = models.OneToOneField(
        PatientCanonical,
        on_delete=models.PROTECT,
        null=True,
        related_name="intakeq_link",
    )
    intakeq_patient = models.OneToOneField(
        IntakeQPatient,
        on_delete=models.PROTECT,
        null=True,
        related_name="canonical_link",
    )
    linked_date = models.DateTimeField(auto_now_add=True, db_default=TransactionNow(), null=True)
    linked_by = models.UUIDField(
        null=True, blank=True, help_text="The CM provider who confirmed the match."
    )
    confidence_score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    # Not in the seed: the staff login that confirmed the link; NULL for automatic links and for
    # rows other clients write.
    linked_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = PatientIntakeQLinkQuerySet.as_manager()

    class Meta:
        db_table = "patients_intakeq_link"
        verbose_name = "IntakeQ link"
        permissions = [
            ("review_patientintakeqlink", "Can confirm or reject proposed IntakeQ links"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(confidence_score__gte=0, confidence_score__lte=1),
                name="patients_intakeq_link_confidence_score_check",
            ),
        ]

    def __str__(self):
        return f"{self.canonical_patient_id} ↔ {self.intakeq_patient_id}"


class LinkProposal(UUIDModel):
    """A possible canonical ↔ IntakeQ pair, below the automatic-link score, for staff to decide.

    A rejected pair stays here as the memory that they are different people: it is never
    proposed again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        CONFIRMED = "confirmed", "Same person"
        REJECTED = "rejected", "Different people"

    canonical_patient = models.ForeignKey(
        PatientCanonical, on_delete=models.CASCADE, related_name="intakeq_link_proposals"
    )
    # No FK constraint: the IntakeQ sync owns `patients` and must stay free to delete its rows.
    intakeq_patient = models.ForeignKey(
        IntakeQPatient,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="link_proposals",
    )
    score = models.DecimalField(max_digits=3, decimal_places=2)
    reasons = ArrayField(models.TextField(), default=list, db_default=[], blank=True)
    status = models.TextField(choices=Status, default=Status.PENDING, db_default=Status.PENDING)
    proposed_at = models.DateTimeField(auto_now_add=True, db_default=TransactionNow())
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, default="", db_default="")

    class Meta:
        db_table = "patients_intakeq_link_proposal"
        verbose_name = "IntakeQ link proposal"
        ordering = ["-score", "proposed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["canonical_patient", "intakeq_patient"],
                name="patients_intakeq_link_proposal_pair_key",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "confirmed", "rejected"]),
                name="patients_intakeq_link_proposal_status_check",
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=1),
                name="patients_intakeq_link_proposal_score_check",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", decided_at__isnull=True)
                | (~models.Q(status="pending") & models.Q(decided_at__isnull=False)),
                name="patients_intakeq_link_proposal_decided_check",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-score"], name="iq_link_proposal_queue_idx"),
            models.Index(fields=["intakeq_patient"], name="iq_link_proposal_iq_idx"),
        ]

    def __str__(self):
        return f"{self.canonical_patient_id} ↔ {self.intakeq_patient_id} ({self.score})"


class LinkHistory(UUIDModel):
    """Every link made and undone, with who, when and why: links are PHI-bearing decisions."""

    class Action(models.TextChoices):
        LINKED = "linked", "Linked"
        UNLINKED = "unlinked", "Unlinked"

    # Plain ids, no FK constraints: history outlives the rows it speaks of.
    canonical_patient_id = models.UUIDField()
    intakeq_patient_id = models.UUIDField()
    action = models.TextField(choices=Action)
    confidence_score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    automatic = models.BooleanField(default=False, db_default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(blank=True, default="", db_default="")
    happened_at = models.DateTimeField(auto_now_add=True, db_default=TransactionNow())

    class Meta:
        db_table = "patients_intakeq_link_history"
        verbose_name = "IntakeQ link history entry"
        verbose_name_plural = "IntakeQ link history"
        ordering = ["-happened_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=["linked", "unlinked"]),
                name="patients_intakeq_link_history_action_check",
            ),
            models.CheckConstraint(
                condition=~models.Q(action="unlinked") | ~models.Q(reason=""),
                name="patients_intakeq_link_history_unlink_reason_check",
            ),
        ]
        indexes = [
            models.Index(
                fields=["canonical_patient_id", "-happened_at"],
                name="iq_link_history_cp_idx",
            ),
        ]

    def __str__(self):
        return f"{self.action} {self.canonical_patient_id} ↔ {self.intakeq_patient_id}"


class ProposeLinksRun(UUIDModel):
    """One finished run of ``manage.py propose_links``: where the next run's IntakeQ pass starts.

    ``intakeq_until`` is the newest IntakeQ ``created_at`` the run covered; the next run looks at
    IntakeQ rows created after it (a first run, at all of them).
    """

    started_at = models.DateTimeField(db_default=TransactionNow())
    finished_at = models.DateTimeField(null=True, blank=True)
    intakeq_until = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, db_default={}, blank=True)

    class Meta:
        db_table = "patients_intakeq_propose_run"
        verbose_name = "propose_links run"
        ordering = ["-started_at"]

    def __str__(self):
        return f"propose_links {self.started_at:%Y-%m-%d %H:%M}"
