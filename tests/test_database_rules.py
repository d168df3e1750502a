"""The database itself refuses what the seed forbids, whoever writes (Node/Supabase clients too)."""

import pytest
from django.db import IntegrityError, connection, transaction

from tests.factories import (
    ContingencyManagementFactory,
    IntakeQPatientFactory,
    PatientCanonicalFactory,
    PatientCMFactory,
)

pytestmark = pytest.mark.django_db


def _execute(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall() if cursor.description else None


def _refused(sql, params=None):
    with pytest.raises(IntegrityError), transaction.atomic():
        _execute(sql, params)


@pytest.mark.parametrize(
    ("first_name", "last_name"),
    [
        ("jessica", "martinez"),
        ("  JESSICA ", "Martinez"),
        ("Jéssica", "Martínez"),
        ("Jessica", "  martinez  "),
        ("Jessica", "MARTINEZ"),
    ],
)
def test_database_refuses_second_canonical_row_in_other_casing_or_spacing(first_name, last_name):
    _execute(
        "INSERT INTO patients_canonical (first_name, last_name, date_of_birth) "
        "VALUES ('Jessica', 'Martinez', '1992-03-22')"
    )
    _refused(
        "INSERT INTO patients_canonical (first_name, last_name, date_of_birth) "
        "VALUES (%s, %s, '1992-03-22')",
        [first_name, last_name],
    )


def test_database_refuses_double_spaced_hyphenated_variant():
    _execute(
        "INSERT INTO patients_canonical (first_name, last_name, date_of_birth) "
        "VALUES ('Mary Ann', 'Smith-Jones', '1970-01-02')"
    )
    _refused(
        "INSERT INTO patients_canonical (first_name, last_name, date_of_birth) "
        "VALUES ('mary  ann', 'smith jones', '1970-01-02')"
    )


def test_same_name_with_another_birth_date_is_another_person():
    _execute(
        "INSERT INTO patients_canonical (first_name, last_name, date_of_birth) VALUES "
        "('John', 'Smith', '1960-06-15'), ('John', 'Smith', '1985-06-15')"
    )
    assert _execute("SELECT count(*) FROM patients_canonical") == [(2,)]


def test_name_is_kept_as_typed_for_display():
    rows = _execute(
        "INSERT INTO patients_canonical (first_name, last_name, date_of_birth) "
        "VALUES ('José', 'O''Brien', '1980-01-01') "
        "RETURNING first_name, last_name, first_name_normalized, last_name_normalized"
    )
    assert rows == [("José", "O'Brien", "jose", "obrien")]


def test_database_refuses_second_cm_record_for_one_person():
    cm_patient = PatientCMFactory()
    _refused(
        "INSERT INTO patients_cm (canonical_patient_id) VALUES (%s)",
        [cm_patient.canonical_patient_id],
    )


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO patients_cm (status) VALUES ('discharged')",
        "INSERT INTO patients_cm (smartphone_access) VALUES ('sometimes')",
        "INSERT INTO providers_cm (first_name, last_name, role) VALUES ('A', 'B', 'nurse')",
        "INSERT INTO providers_cm (first_name, last_name, status) VALUES ('A', 'B', 'away')",
        "INSERT INTO cm_enrollments (status) VALUES ('Active')",
    ],
)
def test_database_refuses_values_outside_the_seed_checks(sql):
    _refused(sql)


def test_database_refuses_confidence_score_above_one():
    canonical = PatientCanonicalFactory()
    intakeq = IntakeQPatientFactory()
    _refused(
        "INSERT INTO patients_intakeq_link (canonical_patient_id, intakeq_patient_id, "
        "confidence_score) VALUES (%s, %s, 1.5)",
        [canonical.pk, intakeq.pk],
    )


def test_database_refuses_a_second_link_for_one_intakeq_patient():
    intakeq = IntakeQPatientFactory()
    first, second = PatientCanonicalFactory(), PatientCanonicalFactory()
    _execute(
        "INSERT INTO patients_intakeq_link (canonical_patient_id, intakeq_patient_id) "
        "VALUES (%s, %s)",
        [first.pk, intakeq.pk],
    )
    _refused(
        "INSERT INTO patients_intakeq_link (canonical_patient_id, intakeq_patient_id) "
        "VALUES (%s, %s)",
        [second.pk, intakeq.pk],
    )


def test_database_refuses_two_enrollments_of_one_person_in_one_program():
    cm_patient = PatientCMFactory()
    program = ContingencyManagementFactory()
    insert = (
        "INSERT INTO cm_enrollments (canonical_patient_id, cm_patient_id, cm_program_id) "
        "VALUES (%s, %s, %s)"
    )
    params = [cm_patient.canonical_patient_id, cm_patient.pk, program.pk]
    _execute(insert, params)
    _refused(insert, params)


def test_seed_only_insert_gets_the_seed_defaults():
    patient_id = _execute(
        "INSERT INTO patients_canonical (first_name, last_name, date_of_birth) "
        "VALUES ('Ana', 'Lee', '1990-01-01') RETURNING id"
    )[0][0]
    cm = _execute(
        "INSERT INTO patients_cm (canonical_patient_id) VALUES (%s) "
        "RETURNING address_state, preferred_language, status, created_at IS NOT NULL",
        [patient_id],
    )
    provider = _execute(
        "INSERT INTO providers_cm (first_name, last_name) VALUES ('Sam', 'Ray') "
        "RETURNING role, status, max_caseload, id IS NOT NULL"
    )
    enrollment = _execute(
        "INSERT INTO cm_enrollments (canonical_patient_id) VALUES (%s) "
        "RETURNING total_points, current_streak, status, enrollment_date IS NOT NULL",
        [patient_id],
    )
    assert cm == [("UT", "English", "active", True)]
    assert provider == [("cpss", "active", 30, True)]
    assert enrollment == [(0, 0, "active", True)]


def test_update_by_another_client_moves_updated_at():
    patient = PatientCanonicalFactory()
    _execute(
        "UPDATE patients_canonical SET updated_at = '2000-01-01', first_name = 'X' WHERE id = %s",
        [patient.pk],
    )
    patient.refresh_from_db()
    assert patient.updated_at.year > 2000
