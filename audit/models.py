import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from audit.kinds import PatientKind
from cm_program.models import Enrollment, PatientCM
from identity.models import PatientCanonical
from intakeq_link.models import PatientIntakeQLink
from providers.models import ProviderCM


# Snapshot of the row after each insert and update, and of the row before each delete. The
# triggers fire for every writer: the ORM, bulk_create/update, raw SQL, other clients.
# A tracker belongs to one model: each event model gets its own instances.
def _trackers():
    return (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())


def _event_model(tracked_model, model_name: str, db_table: str, verbose_name: str, **options):
    # append_only (PGHISTORY_APPEND_ONLY) puts a trigger on the event table that refuses
    # UPDATE and DELETE: history cannot be rewritten, by the site or by SQL.
    return pghistory.create_event_model(
        tracked_model,
        *_trackers(),
        app_label="audit",
        model_name=model_name,
        abstract=False,
        meta={"db_table": db_table, "verbose_name": verbose_name},
        **options,
    )


PatientCanonicalEvent = _event_model(
    PatientCanonical,
    "PatientCanonicalEvent",
    "audit_patients_canonical_event",
    "canonical patient change",
    # Generated columns cannot be written; they follow from the names anyway.
    exclude=["first_name_normalized", "last_name_normalized"],
)
PatientCMEvent = _event_model(
    PatientCM, "PatientCMEvent", "audit_patients_cm_event", "CM patient change"
)
PatientIntakeQLinkEvent = _event_model(
    PatientIntakeQLink,
    "PatientIntakeQLinkEvent",
    "audit_patients_intakeq_link_event",
    "IntakeQ link change",
)
EnrollmentEvent = _event_model(
    Enrollment, "EnrollmentEvent", "audit_cm_enrollments_event", "CM enrollment change"
)
ProviderCMEvent = _event_model(
    ProviderCM, "ProviderCMEvent", "audit_providers_cm_event", "CM provider change"
)


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
