"""IntakeQ patients as a candidate source for identity.matching (see identity.blocking).

The source is the database function ``cm_intakeq_block`` (migration 0009): IntakeQ rows only
(``cm_is_intakeq_client_id``, the same definition as ``IntakeQPatient.objects.from_intakeq()``),
blocked on ``patients.date_of_birth`` and read from ``patients_cm_intakeq_block_idx`` where the
IntakeQ table's owners created it (docs/identity-and-matching.md). Rows without a date of birth
are never proposed: a name alone cannot tell a father from his son.
"""

INTAKEQ = "intakeq"
INTAKEQ_BLOCK_FUNCTION = "cm_intakeq_block"
