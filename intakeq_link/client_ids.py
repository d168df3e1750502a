"""What makes a `patients` row an IntakeQ row: one definition for every query and every check.

The IntakeQ sync always writes ``intakeq_client_id``; the old CM app wrote the same table with it
NULL, empty or only whitespace. A row counts as IntakeQ's when its client id is non-blank after
trimming. The definition lives in the database as the IMMUTABLE function
``cm_is_intakeq_client_id(text)`` (migration intakeq_link 0005), so SQL written anywhere (the
ORM through ``IsIntakeQClientId``, the legacy migration's raw SQL, the partial index) agrees;
``is_intakeq_client_id`` is its Python twin for a row already loaded.
"""

from django.db.models import BooleanField, Func

# Exactly the characters the SQL function trims (ASCII whitespace): the twins must agree.
CLIENT_ID_BLANKS = " \t\n\r\x0b\x0c"


def is_intakeq_client_id(value: str | None) -> bool:
    return value is not None and value.strip(CLIENT_ID_BLANKS) != ""


class IsIntakeQClientId(Func):
    """``cm_is_intakeq_client_id(<expression>)``: usable in filter(), annotate() and Q objects."""

    function = "cm_is_intakeq_client_id"
    arity = 1
    output_field = BooleanField()
