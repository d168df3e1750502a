import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from access_log.kinds import PatientKind


class PatientAccessLog(models.Model):
    """One row per view of a patient page: who, which patient (by kind and id), when.

    No foreign keys: the log must outlive the rows and users it names, and deleting them must
    not rewrite it. The database refuses UPDATE and DELETE on this table (append only).
    """

    PatientKind = PatientKind

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    username = models.TextField(help_text="The username at the time of the view.")
    patient_kind = models.TextField(choices=PatientKind)
    patient_id = models.UUIDField()
    path = models.TextField(blank=True, default="", db_default="")
    viewed_at = models.DateTimeField(db_default=Now())

    class Meta:
        # The table keeps the name it had when the log lived in the audit app.
        db_table = "audit_patient_access_log"
        verbose_name = "patient page view"
        ordering = ["-viewed_at", "-id"]
        indexes = [
            models.Index(
                fields=["patient_kind", "patient_id", "viewed_at"],
                name="audit_access_patient_idx",
            ),
            models.Index(fields=["user", "viewed_at"], name="audit_access_user_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(patient_kind__in=["canonical", "cm", "intakeq"]),
                name="audit_access_patient_kind_check",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.username} viewed {self.patient_kind} {self.patient_id} at {self.viewed_at}"
