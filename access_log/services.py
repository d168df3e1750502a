import uuid

from django.db import transaction

from access_log.kinds import PatientKind
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


def patient_access_log_create_many(
    *, user, patient_kind: str, patient_ids, path: str = ""
) -> list[PatientAccessLog]:
    """Record that ``user`` saw these patients on one page (a list, a search's results): one row
    per patient, in one INSERT (one statement, so all or none; one query per page shown). Ids
    repeated or None are recorded once or not at all."""
    ids = [pk for pk in dict.fromkeys(patient_ids) if pk is not None]
    if not ids:
        return []
    # The rows differ only in the id. The kind is checked here rather than by full_clean, which
    # would cost a query per page for the database's check constraint (it still applies).
    patient_kind = PatientKind(patient_kind).value
    entries = [
        PatientAccessLog(
            user=user if user.is_authenticated else None,
            username=user.get_username() if user.is_authenticated else "",
            patient_kind=patient_kind,
            patient_id=pk,
            path=path,
        )
        for pk in ids
    ]
    return PatientAccessLog.objects.bulk_create(entries)
