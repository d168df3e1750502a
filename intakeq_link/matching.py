"""IntakeQ patients as a candidate source for identity.matching."""

from django.db.models import Value

from identity.matching import PersonRecord
from identity.models import NormalizeName
from intakeq_link.models import IntakeQPatient

INTAKEQ = "intakeq"


def intakeq_records(first_name, last_name, date_of_birth):
    # Only rows from the IntakeQ sync: the old CM app's rows (intakeq_client_id NULL) are not EMR
    # patients and must never be proposed as such.
    rows = IntakeQPatient.objects.filter(
        intakeq_client_id__isnull=False, date_of_birth=date_of_birth
    )
    rows = rows.alias(
        first_norm=NormalizeName("first_name"), last_norm=NormalizeName("last_name")
    ).filter(first_norm=NormalizeName(Value(first_name)), last_norm=NormalizeName(Value(last_name)))
    for row in rows:
        yield PersonRecord(INTAKEQ, row.pk, row.first_name, row.last_name, row.date_of_birth)
