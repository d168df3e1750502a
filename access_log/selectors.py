import uuid

from django.db.models import Q, QuerySet

from access_log.models import PatientAccessLog


def patient_access_history(
    *, canonical_patient_id: uuid.UUID, cm_patient_ids=(), intakeq_patient_ids=()
) -> QuerySet[PatientAccessLog]:
    """Who opened any page of this person (as canonical, CM or IntakeQ patient), newest first."""
    kinds = PatientAccessLog.PatientKind
    return PatientAccessLog.objects.filter(
        Q(patient_kind=kinds.CANONICAL, patient_id=canonical_patient_id)
        | Q(patient_kind=kinds.CM, patient_id__in=list(cm_patient_ids))
        | Q(patient_kind=kinds.INTAKEQ, patient_id__in=list(intakeq_patient_ids))
    )
