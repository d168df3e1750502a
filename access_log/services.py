import uuid

from django.db import connection, transaction

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


def patient_access_log_create_many(*, user, patient_kind: str, patient_ids, path: str = "") -> int:
    """Record that ``user`` saw these patients on one page (a list, a search's results): one row
    per patient, in one INSERT (one statement, so all or none; one query per page shown). Ids
    repeated or None are recorded once or not at all. Returns how many rows were written.

    Written as one ``INSERT ... SELECT unnest(ids)`` rather than ``bulk_create``: every list page
    pays for it, and bulk_create built a model per row and wrapped the one statement in a
    transaction of its own (two more round trips).
    """
    ids = [pk for pk in dict.fromkeys(patient_ids) if pk is not None]
    if not ids:
        return 0
    # The kind is checked here rather than by full_clean, which would cost a query per page for
    # the database's check constraint (it still applies).
    patient_kind = PatientKind(patient_kind).value
    signed_in = user.is_authenticated
    table = PatientAccessLog._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, username, patient_kind, patient_id, path) "  # noqa: S608
            "SELECT %s, %s, %s, patient_id, %s FROM unnest(%s::uuid[]) AS patient_id",
            [
                user.pk if signed_in else None,
                user.get_username() if signed_in else "",
                patient_kind,
                path,
                [str(pk) for pk in ids],
            ],
        )
        return cursor.rowcount
