"""CM records: one patients_cm row per person, written in the people phase's batches.

The plan row holds ids and mapped codes; SQL copies the other columns straight from the legacy
rows, so free text, addresses and dates never travel through Python.
"""

from django.db import connection

from cm_program.models import PatientCM
from legacy.bulk import plan_table
from legacy.models import MigrationNote
from legacy.plan import CmRow, EnrollmentIndex, Person
from legacy.results import VALUE_NOT_CARRIED, PhaseLog
from legacy.values import ENROLLMENT_SOURCE_MAP, SMARTPHONE_MAP, blank_to_none, code

_PLAN_COLUMNS = (
    "cm_id uuid, canonical_id uuid, source_row uuid, contact_patient uuid, "
    "enrollment_source text, smartphone_access text, status text"
)


def _ascii_digits(column: str) -> str:
    """SQL twin of cm_program.validators.ascii_digits for phones: full-width forms by NFKC,
    Arabic-Indic and Eastern Arabic-Indic digits by translate()."""
    return f"translate(normalize({column}, NFKC), '٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹', '01234567890123456789')"


_INSERT_SQL = (
    "INSERT INTO patients_cm (id, canonical_patient_id, phone, email, "  # noqa: S608 - fixed SQL
    "insurance_primary, medicaid_id, enrollment_source, consent_date, "
    "smartphone_access, emergency_contact_name, emergency_contact_phone, "
    "address_street, address_city, address_state, address_zip, preferred_language, "
    "status) "
    "SELECT plan.cm_id, plan.canonical_id, "
    f"CASE WHEN btrim(pt.phone) = '' THEN NULL ELSE {_ascii_digits('pt.phone')} END, "
    "CASE WHEN btrim(pt.email) = '' THEN NULL ELSE pt.email END, "
    "c.insurance_primary, c.medicaid_id, "
    "plan.enrollment_source, c.consent_date, plan.smartphone_access, "
    f"c.emergency_contact_name, {_ascii_digits('c.emergency_contact_phone')}, c.address_street, "
    "c.address_city, c.address_state, c.address_zip, c.preferred_language, "
    "plan.status FROM migrate_cm_plan_cm plan "
    "JOIN cm_patients c ON c.id = plan.source_row "
    "JOIN patients pt ON pt.id = plan.contact_patient"
)


# The person's other legacy rows, each with the row whose values were carried over instead.
_OTHERS_COLUMNS = "legacy_table text, legacy_id uuid, kept uuid"


def _compared(column: str) -> str:
    """A legacy value as compared with the one carried over: blank is no value; case, spaces
    and (for phones, by their digits) punctuation differences are the same value."""
    if column.endswith("phone"):
        value = f"regexp_replace({_ascii_digits(f'{{t}}.{column}')}, '[^0-9]', '', 'g')"
    elif column == "consent_date":
        return f"{{t}}.{column}::text"
    else:
        value = f"lower(regexp_replace(btrim({{t}}.{column}), '\\s+', ' ', 'g'))"
    return f"CASE WHEN btrim({{t}}.{column}) = '' THEN NULL ELSE {value} END"


def _differences_sql(legacy_table: str, columns: list[str]) -> str:
    values = ", ".join(
        f"('{column}', {_compared(column).format(t='x')}, {_compared(column).format(t='k')})"
        for column in columns
    )
    return (
        f"SELECT '{legacy_table}', o.legacy_id, '{VALUE_NOT_CARRIED}' || f.field, o.kept::text "  # noqa: S608 - fixed SQL
        f"FROM migrate_cm_plan_others o JOIN {legacy_table} x ON x.id = o.legacy_id "
        f"JOIN {legacy_table} k ON k.id = o.kept "
        f"CROSS JOIN LATERAL (VALUES {values}) AS f(field, other, carried) "
        f"WHERE o.legacy_table = '{legacy_table}' AND f.other IS NOT NULL "
        "AND f.other IS DISTINCT FROM f.carried"
    )


# What patients_cm takes from the contact row and from the freshest cm_patients row (the two
# coded columns are compared in Python, through their value tables).
_NOTES_SQL = (
    f"INSERT INTO {MigrationNote._meta.db_table} (legacy_table, legacy_id, reason, related_id) "
    + _differences_sql("patients", ["phone", "email"])
    + " UNION ALL "
    + _differences_sql(
        "cm_patients",
        [
            "insurance_primary",
            "medicaid_id",
            "consent_date",
            "emergency_contact_name",
            "emergency_contact_phone",
            "address_street",
            "address_city",
            "address_state",
            "address_zip",
            "preferred_language",
        ],
    )
    + " ON CONFLICT (legacy_table, legacy_id, reason) DO NOTHING"
)


def cm_record_row(
    log: PhaseLog,
    index: EnrollmentIndex,
    *,
    cm_id: str,
    canonical_id: str,
    group_index: int,
    group: list[Person],
) -> tuple:
    """The plan row of one person's patients_cm record.

    CM columns come from the person's most recently updated cm_patients row; contact details
    from the row the old CM app typed, else from the IntakeQ chart (seed scenario 2).
    """
    source = index.freshest_of_group[group_index]
    enrollment_source = _mapped_code(log, source, "enrollment_source", ENROLLMENT_SOURCE_MAP)
    smartphone = _mapped_code(log, source, "smartphone_access", SMARTPHONE_MAP)
    contact = next((p for p in group if p.referenced and not p.from_intakeq), group[0])
    for row in index.rows_of_group[group_index]:
        if row is not source:
            _note_coded_difference(log, row, source, "enrollment_source", ENROLLMENT_SOURCE_MAP)
            _note_coded_difference(log, row, source, "smartphone_access", SMARTPHONE_MAP)
    return (
        cm_id,
        canonical_id,
        source.pk,
        contact.pk,
        enrollment_source,
        smartphone,
        index.status_of_group.get(group_index),
    )


def others_rows(index: EnrollmentIndex, group_index: int, group: list[Person], plan_row: tuple):
    """The person's legacy rows whose values were not the ones carried over, each with the row
    whose were: what ``note_values_not_carried`` compares, so a differing value is not lost."""
    source, contact = plan_row[2], plan_row[3]
    return [("patients", p.pk, contact) for p in group if p.pk != contact] + [
        ("cm_patients", row.pk, source)
        for row in index.rows_of_group[group_index]
        if row.pk != source
    ]


def _note_coded_difference(log: PhaseLog, row: CmRow, source: CmRow, field: str, table: dict):
    raw = getattr(row, field)
    if not blank_to_none(raw):
        return
    # Two spellings of one mapped value ("Y", "yes") lose nothing; an unmapped one is compared
    # as typed (trimmed, case and spaces folded).
    if (table.get(code(raw)) or code(raw)) != (
        table.get(code(getattr(source, field))) or code(getattr(source, field))
    ):
        log.note(row.pk, f"{VALUE_NOT_CARRIED}{field}", table="cm_patients", related_id=source.pk)


def _mapped_code(log: PhaseLog, source: CmRow, field: str, table: dict) -> str | None:
    """The mapped value of a free-text legacy field; a value the table lacks is noted."""
    raw = getattr(source, field)
    mapped = table.get(code(raw))
    if blank_to_none(raw) and mapped is None:
        log.note(source.pk, f"unmapped_{field}", table="cm_patients", value=raw)
    return mapped


def insert_cm_records(log: PhaseLog, plan: list[tuple]) -> None:
    if not plan:
        return
    plan_table("migrate_cm_plan_cm", _PLAN_COLUMNS, plan)
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL)
    log.created[PatientCM._meta.db_table] += len(plan)


def note_values_not_carried(others: list[tuple]) -> None:
    """A note in legacy_migration_notes, in the batch's transaction, for each value of the
    person's other rows (``others_rows``) that differs from the one carried over: ids and field
    names only, never the value."""
    if not others:
        return
    plan_table("migrate_cm_plan_others", _OTHERS_COLUMNS, others)
    with connection.cursor() as cursor:
        cursor.execute(_NOTES_SQL)
