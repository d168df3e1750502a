"""migrate_cm_legacy against the messy data an old app leaves: a walkthrough of the legacy tables'
contract (every nullable column, odd names, edge dates, long text, interrupted runs)."""

import csv
import datetime
import secrets
import uuid

import pytest
from django.db import connection

from cm_program.models import Enrollment, PatientCM
from identity.models import PatientCanonical
from intakeq_link.models import LinkProposal, PatientIntakeQLink
from legacy import people as legacy_people
from legacy.models import LegacyIdMap
from legacy.services import migrate_cm_legacy
from providers.models import ProviderCM
from tests.test_migrate_cm_legacy import (
    DOB,
    LEGACY_SCHEMA,
    Legacy,
    enrollment_of,
    reasons,
    run,
    sql,
    summary,
    table_digest,
)

pytestmark = pytest.mark.django_db

LEGACY_TABLES = ("providers", "patients", "cm_patients")


@pytest.fixture
def legacy():
    with connection.cursor() as cursor:
        cursor.execute(LEGACY_SCHEMA.read_text())
    return Legacy()


@pytest.fixture
def report(tmp_path):
    path = tmp_path / "report.csv"

    def read():
        with path.open() as handle:
            return list(csv.DictReader(handle))

    read.path = str(path)
    return read


def every_table_count():
    """Rows of every table in the schema (ours, Django's, the legacy ones, the audit trail)."""
    tables = [
        row[0]
        for row in sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        )
    ]
    return {table: sql(f'SELECT count(*) FROM "{table}"')[0][0] for table in tables}  # noqa: S608


def assert_balanced(output):
    counts = summary(output)
    assert set(counts) == set(LEGACY_TABLES)
    for read, *outcomes in counts.values():
        assert read == sum(outcomes)
    return counts


# --- NULLs, blanks, odd names --------------------------------------------------------------------


def test_every_nullable_legacy_column_null_still_migrates(legacy, report):
    sql(
        "INSERT INTO providers (id, first_name, last_name, email, phone, credentials, role)"
        " VALUES (%s, 'Casey', 'Peer', NULL, NULL, NULL, 'cpss')",
        [uuid.uuid4()],
    )
    patient = uuid.uuid4()
    sql(
        "INSERT INTO patients (id, intakeq_client_id, first_name, last_name, date_of_birth,"
        " phone, email) VALUES (%s, NULL, 'Ann', 'Lee', %s, NULL, NULL)",
        [patient, DOB],
    )
    columns = [
        "cpss_provider_id",
        "program_name",
        "insurance_primary",
        "medicaid_id",
        "enrollment_source",
        "consent_date",
        "smartphone_access",
        "emergency_contact_name",
        "emergency_contact_phone",
        "address_street",
        "address_city",
        "address_state",
        "address_zip",
        "preferred_language",
        "medicaid_verification",
        "pod_assignment",
        "notes",
    ]
    enrollment = legacy.enrollment(patient, **dict.fromkeys(columns))

    output = run("--report", report.path)

    assert_balanced(output)
    assert ProviderCM.objects.get().email is None
    new = enrollment_of(enrollment)
    assert (new.cpss_provider, new.pod_assignment, new.notes, new.medicaid_verification) == (
        None,
        None,
        None,
        None,
    )
    cm = PatientCM.objects.get()
    assert [getattr(cm, name) for name in ("phone", "email", "address_state")] == [None] * 3
    assert [r for r in report() if r["kind"] == "reported"] == []


@pytest.mark.parametrize(
    ("first", "last"), [("", "Lee"), ("Ann", ""), ("   ", "Lee"), ("Ann", " ")]
)
def test_empty_or_whitespace_names_are_reported_with_their_enrollment(legacy, report, first, last):
    patient = legacy.patient(first, last)
    enrollment = legacy.enrollment(patient)

    output = run("--report", report.path)

    assert not PatientCanonical.objects.exists()
    rows = report()
    assert reasons(rows, patient) == {"blank_name"}
    assert reasons(rows, enrollment) == {"patient_not_migrated:blank_name"}
    assert summary(output)["cm_patients"] == [1, 0, 0, 0, 1, 0]


def test_accents_apostrophes_hyphens_case_and_spaces_are_one_person_named_as_typed(legacy, report):
    first = legacy.patient("  Mary-Jane ", " O'Connor-Núñez ")
    legacy.patient("mary jane", "OCONNOR NUNEZ")
    legacy.patient("MARY–JANE", "o’connor núñez")
    for patient_id, program in zip(
        [r[0] for r in sql("SELECT id FROM patients ORDER BY created_at, id")], "ABC", strict=True
    ):
        legacy.enrollment(patient_id, program_name=program)

    output = run("--report", report.path)

    canonical = PatientCanonical.objects.get()
    assert canonical.first_name in ("Mary-Jane", "mary jane", "MARY–JANE")
    assert canonical.first_name == canonical.first_name.strip()
    assert Enrollment.objects.count() == 3
    assert summary(output)["patients"] == [3, 0, 1, 2, 0, 0]
    assert LegacyIdMap.objects.get(legacy_table="patients", legacy_id=first).new_id == canonical.pk


def test_nickname_typo_and_swapped_date_of_one_person_are_never_merged(legacy, report):
    intakeq = legacy.patient("Robert", "Jones", client_id="IQ-7")
    nickname = legacy.patient("Bob", "Jones")
    typo = legacy.patient("Robert", "Jnoes")
    swapped = legacy.patient("Robert", "Jones", dob=datetime.date(1985, 7, 6))
    for patient in (nickname, typo, swapped):
        legacy.enrollment(patient)

    output = run("--report", report.path)

    assert_balanced(output)
    assert PatientCanonical.objects.count() == 3
    assert not PatientIntakeQLink.objects.exists()
    proposed = set(LinkProposal.objects.values_list("intakeq_patient_id", flat=True))
    assert proposed == {intakeq}
    assert LinkProposal.objects.count() == 2  # the nickname and the typo, for staff to decide
    assert Enrollment.objects.count() == 3


# --- free-text values and edges ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("", "unknown_status"), ("active!", "unknown_status"), ("INACTIVE ", "ambiguous_status")],
)
def test_status_outside_the_table_is_reported_with_its_value(legacy, report, raw, reason):
    enrollment = legacy.enrollment(legacy.patient(), status=raw)

    run("--report", report.path)

    line = next(r for r in report() if r["legacy_id"] == str(enrollment))
    assert (line["reason"], line["value"]) == (reason, raw)
    assert PatientCM.objects.get().status is None


def test_very_long_status_value_is_cut_to_40_characters_in_the_report(legacy, report):
    enrollment = legacy.enrollment(legacy.patient(), status="x" * 5000)

    run("--report", report.path)

    line = next(r for r in report() if r["legacy_id"] == str(enrollment))
    assert line["value"] == "x" * 40


@pytest.mark.parametrize(
    ("dob", "migrated"),
    [
        (datetime.date(1900, 1, 1), True),
        (datetime.date(1899, 12, 31), False),
        (datetime.date(2000, 2, 29), True),
        ("today", True),
        ("tomorrow", False),
        (datetime.date(2999, 1, 1), False),
    ],
)
def test_dates_of_birth_at_the_edges(legacy, report, dob, migrated):
    today = datetime.date.today()  # noqa: DTZ011 - the migration's own rule
    dob = {"today": today, "tomorrow": today + datetime.timedelta(days=1)}.get(dob, dob)
    patient = legacy.patient(dob=dob)
    legacy.enrollment(patient)

    run("--report", report.path)

    assert PatientCanonical.objects.filter(date_of_birth=dob).exists() == migrated
    if not migrated:
        assert reasons(report(), patient) == {"implausible_date_of_birth"}


def test_timestamps_at_the_edges_are_copied_as_they_are(legacy, report):
    enrollment = legacy.enrollment(
        legacy.patient(),
        consent_date="1900-01-01T00:00:00Z",
        enrollment_date="2099-02-28T12:00:00Z",
        created_at="2000-02-29T00:00:00Z",
    )

    run("--report", report.path)

    new = enrollment_of(enrollment)
    assert new.enrollment_date == datetime.datetime(2099, 2, 28, 12, tzinfo=datetime.UTC)
    assert new.created_at == datetime.datetime(2000, 2, 29, tzinfo=datetime.UTC)
    assert PatientCM.objects.get().consent_date == datetime.datetime(
        1900, 1, 1, tzinfo=datetime.UTC
    )


def test_very_long_free_text_arrives_whole(legacy, report):
    notes = "Line one.\n" + "é" * 200_000
    address = "1 Main St " * 1000
    enrollment = legacy.enrollment(legacy.patient(), notes=notes, address_street=address)

    run("--report", report.path)

    assert enrollment_of(enrollment).notes == notes
    assert PatientCM.objects.get().address_street == address


# --- duplicates --------------------------------------------------------------------------------


def test_three_enrollments_of_one_person_in_one_program_keep_the_earliest(legacy, report):
    patient = legacy.patient()
    later = legacy.enrollment(patient, enrollment_date="2024-01-01T00:00:00Z", total_points=5)
    kept = legacy.enrollment(patient, enrollment_date="2020-01-01T00:00:00Z", total_points=9)
    latest = legacy.enrollment(
        legacy.patient("john", "SMITH "), enrollment_date="2025-01-01T00:00:00Z"
    )

    output = run("--report", report.path, "--batch-size", "1")

    assert Enrollment.objects.get() == enrollment_of(kept)
    rows = report()
    for dropped in (later, latest):
        line = next(r for r in rows if r["legacy_id"] == str(dropped))
        assert (line["reason"], line["related_id"]) == (
            "duplicate_enrollment_same_person_program",
            str(kept),
        )
    assert summary(output)["cm_patients"] == [3, 0, 1, 0, 2, 0]


# --- runs: dry, interrupted, repeated -----------------------------------------------------------


@pytest.fixture
def messy(legacy):
    cpss = legacy.provider(email="x@example.com")
    legacy.provider(email="X@example.com ")
    legacy.provider(role="psychiatrist")
    legacy.patient("Jonathan", "Smith", client_id="IQ-1")
    jon = legacy.patient("Jon", "Smith")
    legacy.enrollment(jon, cpss_provider_id=cpss, program_name="A", pod_assignment="Pod A")
    legacy.enrollment(jon, program_name=None, status="Active", total_points=30)
    legacy.enrollment(legacy.patient("jon", "smith"), program_name="a")
    legacy.enrollment(legacy.patient("Ann", "Lee", dob=None))
    legacy.enrollment(legacy.patient("Bea", "Ray"), status="inactive", smartphone_access="?")
    for index in range(6):
        legacy.enrollment(
            legacy.patient(f"Person{index}", "Example"),
            status="graduated",
            pod_assignment=" pod  a",
            total_points=index,
        )
    return legacy


def test_dry_run_changes_no_table_at_all(messy):
    before = every_table_count()

    output = run("--dry-run", "--batch-size", "2")

    assert every_table_count() == before
    assert "Would create:" in output
    assert_balanced(output)


def test_report_accounts_for_every_legacy_row_at_batch_size_one(messy, report):
    output = run("--report", report.path, "--batch-size", "1")

    counts = assert_balanced(output)
    assert counts["cm_patients"][0] == sql("SELECT count(*) FROM cm_patients")[0][0]
    reported = {(r["legacy_table"], r["legacy_id"]) for r in report() if r["kind"] == "reported"}
    mapped = set(LegacyIdMap.objects.values_list("legacy_table", "legacy_id"))
    every_enrollment = {("cm_patients", str(r[0])) for r in sql("SELECT id FROM cm_patients")}
    assert every_enrollment <= reported | {(t, str(i)) for t, i in mapped}
    assert not reported & {(t, str(i)) for t, i in mapped}


def test_an_error_inside_a_later_batch_rolls_that_batch_back_whole_and_a_rerun_finishes(
    messy, report, monkeypatch
):
    class Broken(Exception):
        pass

    real_write = legacy_people.write_id_map
    calls = []

    def write_then_fail_on_third_batch(log, table, entries):
        calls.append(1)
        real_write(log, table, entries)
        if len(calls) == 3:
            raise Broken  # after the batch's rows and id map were written, before commit

    monkeypatch.setattr(legacy_people, "write_id_map", write_then_fail_on_third_batch)
    with pytest.raises(Broken):
        migrate_cm_legacy(batch_size=2)
    # Two whole batches of people (2 each, rows and id map together), nothing of the third.
    mapped = set(
        LegacyIdMap.objects.filter(legacy_table="patients").values_list("new_id", flat=True)
    )
    assert set(PatientCanonical.objects.values_list("pk", flat=True)) == mapped
    assert len(mapped) == PatientCM.objects.count() == 4
    already = LegacyIdMap.objects.filter(legacy_table="patients").count()
    monkeypatch.setattr(legacy_people, "write_id_map", real_write)

    output = run("--report", report.path, "--batch-size", "2")

    assert_balanced(output)
    assert PatientCanonical.objects.count() == 8
    assert PatientCM.objects.count() == 8
    assert Enrollment.objects.count() == 8
    assert summary(output)["patients"][1] == already


def test_rerun_with_a_smaller_batch_size_changes_nothing(messy, report):
    run("--report", report.path, "--batch-size", "5")
    before = every_table_count()
    digests = [table_digest(t) for t in ("cm_enrollments", "patients_cm", "patients_canonical")]

    output = run("--report", report.path, "--batch-size", "1")

    after = every_table_count()
    # Only the audit of the rerun's own reads may grow; no data table does.
    assert {t: n for t, n in after.items() if n != before[t] and "audit" not in t} == {}
    assert [
        table_digest(t) for t in ("cm_enrollments", "patients_cm", "patients_canonical")
    ] == digests
    counts = assert_balanced(output)
    assert counts["cm_patients"][1] == Enrollment.objects.count()


# --- defects found -------------------------------------------------------------------------------


def test_a_reported_earliest_enrollment_does_not_block_the_later_valid_one(legacy, report):
    # The earliest row cannot be migrated (negative points): it must not be "the kept one" that
    # the valid later row is reported as a duplicate of, or neither is migrated.
    patient = legacy.patient()
    negative = legacy.enrollment(patient, enrollment_date="2020-01-01T00:00:00Z", total_points=-3)
    valid = legacy.enrollment(patient, enrollment_date="2024-01-01T00:00:00Z", total_points=12)

    run("--report", report.path)

    assert enrollment_of(valid).total_points == 12
    assert reasons(report(), negative) == {"negative_points_or_streak"}


def test_an_identity_merged_away_in_the_new_app_leads_to_the_kept_person(legacy, report):
    # identity's rule (canonical_patient_find_or_create): lookups of a merged identity lead to
    # the person who holds the rows now, never to the merged-away row.
    kept = PatientCanonical.objects.create(
        first_name="Johnny", last_name="Smith", date_of_birth=DOB
    )
    PatientCanonical.objects.create(
        first_name="John", last_name="Smith", date_of_birth=DOB, merged_into=kept
    )
    enrollment = legacy.enrollment(legacy.patient("John", "Smith"))

    run("--report", report.path)

    assert enrollment_of(enrollment).canonical_patient_id == kept.pk
    assert PatientCM.objects.get().canonical_patient_id == kept.pk


def test_a_name_too_long_for_the_pages_is_reported_not_a_crash_of_the_run(legacy, report):
    # 6000 random characters: too big for the unique index on names, so COPY failed and every
    # run stopped at that batch. The pages refuse names over 100 characters.
    odd = legacy.patient("Ann" + secrets.token_hex(3000), "Lee")
    enrollment = legacy.enrollment(odd)
    legacy.enrollment(legacy.patient("Bea", "Ray"))

    output = run("--report", report.path)

    assert_balanced(output)
    assert PatientCanonical.objects.get().first_name == "Bea"
    assert reasons(report(), odd) == {"unusable_name:too_long"}
    assert reasons(report(), enrollment) == {"patient_not_migrated:unusable_name:too_long"}


def test_greek_capitals_and_final_sigma_spellings_are_one_person_not_a_crash(legacy, report):
    # Python's lower() writes a word-final sigma as 'ς', the database's lower() as 'σ': the
    # plan made two people of what the database's unique index says is one, and COPY failed.
    legacy.enrollment(legacy.patient("ΝΙΚΟΣ", "Παππάς"), program_name="A")
    legacy.enrollment(legacy.patient("Νικοσ", "Παππάς"), program_name="B")

    output = run("--report", report.path)

    assert_balanced(output)
    assert PatientCanonical.objects.count() == 1
    assert Enrollment.objects.count() == 2


@pytest.mark.parametrize("column", ["pod_assignment", "program_name"])
def test_a_long_incompressible_pod_or_program_name_does_not_stop_the_run(legacy, report, column):
    # ~6,000 random characters overflow the pod and program indexes: COPY failed and every run
    # stopped at that batch.
    legacy.enrollment(legacy.patient("Ann", "Lee"), **{column: secrets.token_hex(3000)})
    kept = legacy.enrollment(legacy.patient("Cal", "Fox"))

    output = run("--report", report.path)

    assert_balanced(output)
    assert enrollment_of(kept)
    assert f"{column}_too_long" in {row["reason"] for row in report()}


# --- nothing vanishes silently: every row counted, every value not carried over reported ---------


def not_carried(rows, legacy_id):
    """field -> the row whose value was kept instead, for the legacy row's dropped values."""
    prefix = "value_not_carried_over:"
    return {
        row["reason"].removeprefix(prefix): row["related_id"]
        for row in rows
        if row["legacy_id"] == str(legacy_id) and row["reason"].startswith(prefix)
    }


def test_a_second_rows_differing_phone_and_email_are_reported_against_the_kept_row(legacy, report):
    first = legacy.patient("John", "Smith", phone="801-555-0100")
    second = legacy.patient("john", "SMITH", phone="801-555-0199", email="js@example.com")
    legacy.enrollment(first, program_name="A")
    legacy.enrollment(second, program_name="B")

    output = run("--report", report.path)

    assert (PatientCM.objects.get().phone, PatientCM.objects.get().email) == ("801-555-0100", None)
    rows = report()
    assert not_carried(rows, second) == {"phone": str(first), "email": str(first)}
    # Ids and field names only: the dropped phone or email itself is never in the report.
    assert not any("555" in row["value"] or "@" in row["value"] for row in rows)
    assert "2 legacy values were not carried over" in output


def test_the_same_phone_and_email_typed_differently_are_not_reported(legacy, report):
    first = legacy.patient("John", "Smith", phone="(801) 555-0100", email="JS@example.com")
    second = legacy.patient("John", "Smith", phone="801 555 0100", email=" js@example.com ")
    legacy.enrollment(first, program_name="A")
    legacy.enrollment(second, program_name="B")

    run("--report", report.path)

    assert not_carried(report(), second) == {}


def test_an_older_enrollments_differing_cm_fields_are_reported_against_the_freshest(legacy, report):
    patient = legacy.patient()
    same = {"medicaid_id": "M-1", "smartphone_access": "Y"}
    older = legacy.enrollment(
        patient,
        program_name="A",
        insurance_primary="Utah Medicaid",
        address_city="Provo",
        updated_at="2020-01-01T00:00:00Z",
        **same,
    )
    freshest = legacy.enrollment(
        patient,
        program_name="B",
        insurance_primary="Select Health",
        updated_at="2024-01-01T00:00:00Z",
        **{**same, "smartphone_access": "yes"},
    )

    output = run("--report", report.path)

    assert PatientCM.objects.get().insurance_primary == "Select Health"
    assert not_carried(report(), older) == {
        "insurance_primary": str(freshest),
        "address_city": str(freshest),
    }
    assert "2 legacy values were not carried over" in output


def test_values_not_carried_over_are_reported_again_by_a_rerun(legacy, report):
    first = legacy.patient("Ann", "Lee", phone="1")
    second = legacy.patient("Ann", "Lee", phone="2")
    legacy.enrollment(first, program_name="A")
    legacy.enrollment(second, program_name="B")
    run("--report", report.path)

    output = run("--report", report.path)

    assert not_carried(report(), second) == {"phone": str(first)}
    assert "1 legacy values were not carried over" in output


def test_every_legacy_row_is_counted_so_the_counts_add_up_to_the_tables(legacy, report):
    legacy.provider(role="psychiatrist")
    legacy.enrollment(legacy.patient("Ann", "Lee"), cpss_provider_id=legacy.provider())
    legacy.patient("Ann", "Lee", client_id="IQ-1")  # the IntakeQ twin of an enrolled row
    legacy.patient("Bea", "Ray", client_id="IQ-2")  # someone else's patient
    legacy.patient("Cal", "Fox", client_id="IQ-3", dob=datetime.date(1970, 1, 1))
    legacy.patient("Dee", "Kim")  # typed in by the old CM app, never enrolled
    legacy.enrollment(legacy.patient("Eve", "Nox", dob=None))

    output = run("--report", report.path)

    counts = assert_balanced(output)
    for table in LEGACY_TABLES:
        assert counts[table][0] == sql(f"SELECT count(*) FROM {table}")[0][0]  # noqa: S608


def test_a_cm_app_row_without_an_enrollment_is_in_the_report_with_its_reason(legacy, report):
    legacy.enrollment(legacy.patient("Ann", "Lee"))
    never_enrolled = legacy.patient("Dee", "Kim")

    run("--report", report.path)

    assert reasons(report(), never_enrolled) == {"no_enrollment"}


def test_unenrolled_intakeq_rows_do_not_stop_a_rerun_from_being_complete(legacy, report):
    legacy.enrollment(legacy.patient("Ann", "Lee"))
    legacy.patient("Ann", "Lee", client_id="IQ-1")
    legacy.patient("Bea", "Ray", client_id="IQ-2")
    run("--report", report.path)

    output = run("--report", report.path)

    assert "Everything is already migrated; nothing was created." in output


def test_rows_added_to_an_already_migrated_person_are_noted_by_the_rerun(legacy, report):
    # The person's CM record exists since the first run and is not rewritten: the new row's
    # phone and its enrollment's CM fields are not applied, which the report must say.
    legacy.enrollment(legacy.patient("Ann", "Lee", phone="1"), program_name="A")
    run("--report", report.path)
    later = legacy.patient("Ann", "Lee", phone="2")
    later_enrollment = legacy.enrollment(later, program_name="B", insurance_primary="Other")

    run("--report", report.path)

    rows = report()
    cm_id = str(PatientCM.objects.get().pk)
    assert {(r["reason"], r["related_id"]) for r in rows if r["legacy_id"] == str(later)} == {
        ("cm_record_already_existed_fields_not_applied", cm_id)
    }
    assert reasons(rows, later_enrollment) == {"cm_record_already_existed_fields_not_applied"}
