"""IntakeQ patients as a candidate source for identity.matching (see identity.blocking).

Blocking is on ``patients.date_of_birth`` of IntakeQ rows only (the partial index
``patients_cm_intakeq_dob_idx``, DDL we ask of the IntakeQ table's owners; see
docs/identity-and-matching.md). Rows without a date of birth are never proposed: a name alone
cannot tell a father from his son.
"""

from identity.blocking import in_blocking_dates
from identity.models import NormalizeName
from intakeq_link.models import IntakeQPatient

INTAKEQ = "intakeq"


def intakeq_block():
    """The QuerySet identity compiles once into its blocking statement."""
    # Only rows from the IntakeQ sync: the old CM app's rows (blank intakeq_client_id) are not
    # EMR patients and must never be proposed as such.
    # The database normalizes the names (cm_normalize_name, the Python twin's equal): cheaper there.
    return (
        IntakeQPatient.objects.from_intakeq()
        .filter(in_blocking_dates("date_of_birth"))
        .order_by()
        .annotate(first_norm=NormalizeName("first_name"), last_norm=NormalizeName("last_name"))
        .values_list(
            "pk",
            "first_name",
            "last_name",
            "date_of_birth",
            "first_norm",
            "last_norm",
            "phone",
            "email",
        )
    )
