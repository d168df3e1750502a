import datetime

from django.db import transaction

from identity.models import PatientCanonical
from identity.selectors import canonical_patients_with_identity
from identity.validators import clean_date_of_birth, clean_person_name


@transaction.atomic
def find_or_create_canonical_patient(
    *, first_name: str, last_name: str, date_of_birth: datetime.date | str
) -> tuple[PatientCanonical, bool]:
    """Return ``(patient, created)``: the one canonical row for this person, made if absent.

    Race-safe without check-then-insert: the INSERT is ``ON CONFLICT DO NOTHING`` against the
    database's unique constraints (exact and normalized), so concurrent calls for the same person,
    in any casing or spacing, end with one row; the losers then read the winner's row.
    Names are stored as typed (trimmed); matching uses the database's normalized form.
    """
    first_name = clean_person_name(first_name, label="first_name")
    last_name = clean_person_name(last_name, label="last_name")
    date_of_birth = clean_date_of_birth(date_of_birth)

    existing = _get_by_identity(first_name, last_name, date_of_birth)
    if existing is not None:
        return existing, False

    candidate = PatientCanonical(
        first_name=first_name, last_name=last_name, date_of_birth=date_of_birth
    )
    PatientCanonical.objects.bulk_create([candidate], ignore_conflicts=True)
    created = PatientCanonical.objects.filter(pk=candidate.pk).first()
    if created is not None:
        return created, True
    return _get_by_identity(first_name, last_name, date_of_birth), False


def _get_by_identity(
    first_name: str, last_name: str, date_of_birth: datetime.date
) -> PatientCanonical | None:
    return canonical_patients_with_identity(
        first_name=first_name, last_name=last_name, date_of_birth=date_of_birth
    ).first()
