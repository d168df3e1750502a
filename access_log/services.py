import uuid

from django.db import transaction

from access_log.models import PatientAccessLog


@transaction.atomic
def patient_access_log_create(
    *, user, patient_kind: str, patient_id: uuid.UUID, path: str = ""
) -> PatientAccessLog:
    """Record that ``user`` opened the page of one patient. Call it once the page is allowed."""
    entry = PatientAccessLog(
        user=user if user.is_authenticated else None,
        username=user.get_username() if user.is_authenticated else "",
        patient_kind=patient_kind,
        patient_id=patient_id,
        path=path,
    )
    entry.full_clean(exclude=["user"])
    entry.save()
    return entry
