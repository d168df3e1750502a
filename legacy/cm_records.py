"""CM records: one patients_cm row per person, written in the people phase's batches.

The plan row holds ids and mapped codes; SQL copies the other columns straight from the legacy
rows, so free text, addresses and dates never travel through Python.
"""

from django.db import connection

from cm_program.models import PatientCM
from legacy.bulk import plan_table
from legacy.plan import CmRow, EnrollmentIndex, Person
from legacy.results import PhaseLog
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
    return (
        cm_id,
        canonical_id,
        source.pk,
        contact.pk,
        enrollment_source,
        smartphone,
        index.status_of_group.get(group_index),
    )


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
