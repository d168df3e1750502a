from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.functions import TransactionNow
from django.db import models

from core.models import TimestampedModel, UUIDModel
from identity.querysets import PatientCanonicalQuerySet
from identity.validators import validate_person_name


class NormalizeName(models.Func):
    """cm_normalize_name(text): the database's definition of 'the same name' (see normalization)."""

    function = "cm_normalize_name"
    output_field = models.TextField()


class PatientCanonical(TimestampedModel):
    """One row per real person: identity only, no clinical or program data."""

    first_name = models.TextField(validators=[validate_person_name])
    last_name = models.TextField(validators=[validate_person_name])
    date_of_birth = models.DateField()
    # Not in the seed: computed by the database, so clients that insert only the seed's columns
    # still get the normalized uniqueness below.
    first_name_normalized = models.GeneratedField(
        expression=NormalizeName("first_name"),
        output_field=models.TextField(),
        db_persist=True,
    )
    last_name_normalized = models.GeneratedField(
        expression=NormalizeName("last_name"),
        output_field=models.TextField(),
        db_persist=True,
    )
    # Not in the seed: set while this row is merged into another person (CanonicalMerge), so
    # lookups of this identity lead to the kept person; the row itself is never deleted.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="merged_from",
    )

    objects = PatientCanonicalQuerySet.as_manager()

    class Meta:
        db_table = "patients_canonical"
        verbose_name = "canonical patient"
        ordering = ["last_name", "first_name", "date_of_birth"]
        permissions = [
            ("view_complete_patient_view", "Can see a person across CM and IntakeQ"),
            ("view_dual_enrollment_report", "Can see who is in both CM and IntakeQ"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["first_name", "last_name", "date_of_birth"],
                name="patients_canonical_first_name_last_name_date_of_birth_key",
            ),
            # The seed's UNIQUE lets 'Jessica ' and 'jessica' become two people; this one does not.
            models.UniqueConstraint(
                fields=["first_name_normalized", "last_name_normalized", "date_of_birth"],
                name="patients_canonical_normalized_identity_key",
            ),
            models.CheckConstraint(
                condition=~models.Q(merged_into=models.F("id")),
                name="patients_canonical_not_merged_into_self_check",
            ),
        ]
        indexes = [
            models.Index(fields=["date_of_birth"], name="patients_canonical_dob_idx"),
            # Also the CM list's default order: its first page walks the people by name until it
            # has a page of enrolled ones (~1,500 at 11,000 of 100,000 enrolled), from the index
            # alone, with the columns a row shows.
            models.Index(
                fields=["last_name_normalized", "first_name_normalized"],
                include=["id", "first_name", "last_name", "date_of_birth"],
                name="patients_canonical_name_idx",
            ),
            # The matcher's block by date, read from the index alone (an index-only scan): the
            # ~35 dates' entries sit on a few leaf pages, where the rows sit on ~130 heap pages.
            models.Index(
                fields=["date_of_birth"],
                include=[
                    "id",
                    "first_name",
                    "last_name",
                    "first_name_normalized",
                    "last_name_normalized",
                ],
                condition=models.Q(merged_into__isnull=True),
                name="patients_canonical_block_idx",
            ),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name} ({self.date_of_birth:%Y-%m-%d})"


class CanonicalMerge(UUIDModel):
    """One person's two rows made one: ``merged`` now points at ``keep``, until an unmerge.

    ``moved`` holds what each app moved (its registered mover's own record, identity.merging),
    so unmerge can put back exactly those rows; ``detached`` lists, in words, the rows that lost
    a one-per-person choice on the merge page (kept, never deleted, re-attached by unmerge).
    Not append-only: unmerge fills the unmerged_* columns once; nothing else changes, and the
    audit trail (audit.CanonicalMergeEvent) keeps every version.
    """

    keep = models.ForeignKey(PatientCanonical, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(
        PatientCanonical, on_delete=models.PROTECT, related_name="merges_absorbed"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    merged_at = models.DateTimeField(auto_now_add=True, db_default=TransactionNow())
    choices = models.JSONField(default=dict, db_default={}, blank=True)
    moved = models.JSONField(default=dict, db_default={}, blank=True)
    detached = models.JSONField(default=list, db_default=[], blank=True)
    unmerged_at = models.DateTimeField(null=True, blank=True)
    unmerged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    unmerge_reason = models.TextField(blank=True, default="", db_default="")

    class Meta:
        db_table = "patients_canonical_merge"
        verbose_name = "canonical patient merge"
        ordering = ["-merged_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(keep=models.F("merged")),
                name="patients_canonical_merge_not_self_check",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="patients_canonical_merge_reason_check"
            ),
            models.CheckConstraint(
                condition=models.Q(unmerged_at__isnull=True, unmerged_by__isnull=True)
                | (
                    models.Q(unmerged_at__isnull=False, unmerged_by__isnull=False)
                    & ~models.Q(unmerge_reason="")
                ),
                name="patients_canonical_merge_unmerged_check",
            ),
            # A row is merged into one person at a time.
            models.UniqueConstraint(
                fields=["merged"],
                condition=models.Q(unmerged_at__isnull=True),
                name="patients_canonical_merge_active_key",
            ),
        ]
        indexes = [models.Index(fields=["keep"], name="canonical_merge_keep_idx")]

    def __str__(self):
        return f"{self.merged_id} → {self.keep_id} ({self.merged_at:%Y-%m-%d})"

    @property
    def is_active(self) -> bool:
        return self.unmerged_at is None


class DuplicateProposal(UUIDModel):
    """Two canonical rows the matcher thinks may be one person, for staff to decide.

    The pair is stored in id order (``first`` < ``second``), so it is one row whichever side
    proposed it. A rejected pair is the memory that they are different people: never proposed
    again. "Same person" is decided by merging them (identity.services.canonical_patients_merge).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        CONFIRMED = "confirmed", "Same person (merged)"
        REJECTED = "rejected", "Different people"

    first = models.ForeignKey(
        PatientCanonical, on_delete=models.PROTECT, related_name="duplicate_proposals_first"
    )
    second = models.ForeignKey(
        PatientCanonical, on_delete=models.PROTECT, related_name="duplicate_proposals_second"
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
        db_table = "patients_canonical_duplicate_proposal"
        verbose_name = "duplicate patient proposal"
        ordering = ["-score", "proposed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["first", "second"], name="patients_canonical_duplicate_pair_key"
            ),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")),
                name="patients_canonical_duplicate_pair_order_check",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "confirmed", "rejected"]),
                name="patients_canonical_duplicate_status_check",
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=1),
                name="patients_canonical_duplicate_score_check",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", decided_at__isnull=True)
                | (~models.Q(status="pending") & models.Q(decided_at__isnull=False)),
                name="patients_canonical_duplicate_decided_check",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="rejected") | ~models.Q(decision_note=""),
                name="patients_canonical_duplicate_reject_note_check",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-score"], name="canonical_dup_queue_idx"),
            models.Index(fields=["second"], name="canonical_dup_second_idx"),
        ]

    def __str__(self):
        return f"{self.first_id} ↔ {self.second_id} ({self.score})"
