import uuid

from django.contrib.postgres.functions import RandomUUID, TransactionNow
from django.db import models

from identity.models import PatientCanonical
from intakeq_link.querysets import IntakeQPatientQuerySet, PatientIntakeQLinkQuerySet


class IntakeQPatient(models.Model):
    """The EMR's `patients` table, filled by the IntakeQ sync and owned by it: never migrated here.

    Rows with intakeq_client_id NULL were written by the old CM app, not by IntakeQ.
    Columns are those of shared/legacy/legacy_schema.sql.
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
        return self.intakeq_client_id is not None


class PatientIntakeQLink(models.Model):
    """Ties one canonical patient to one IntakeQ patient (one link per side)."""

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False
    )
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
