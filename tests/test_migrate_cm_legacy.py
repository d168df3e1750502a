"""manage.py migrate_cm_legacy: the old CM data into the clean separation, losing nothing."""

import csv
import datetime
import os
import stat
import uuid
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from cm_program.models import ContingencyManagement, Enrollment, PatientCM
from identity.models import PatientCanonical
from intakeq_link.models import LinkHistory, LinkProposal, PatientIntakeQLink
from legacy.models import LegacyIdMap
from legacy.services import migrate_cm_legacy
from legacy.values import DEFAULT_PROGRAM_NAME
from providers.models import ProviderCM
from tests.factories import ContingencyManagementFactory, PatientCanonicalFactory, ProviderCMFactory

pytestmark = pytest.mark.django_db

LEGACY_SCHEMA = Path(__file__).parent / "fixtures" / "legacy_schema.sql"
DOB = datetime.date(1985, 6, 15)


def sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchall() if cursor.description else None


@pytest.fixture
def legacy():
    """The legacy tables from the contract file, and helpers that write legacy rows."""
    with connection.cursor() as cursor:
        cursor.execute(LEGACY_SCHEMA.read_text())
    return Legacy()


class Legacy:
    created = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)

    def provider(self, *, role="cpss", email=None, is_active=True, first="Casey", last="Peer"):
        pk = uuid.uuid4()
        # Distinct creation times, so "the earlier row" is well defined.
        self.created += datetime.timedelta(days=1)
        sql(
            "INSERT INTO providers (id, first_name, last_name, email, role, credentials,"
            " is_active, created_at) VALUES (%s, %s, %s, %s, %s, 'CPSS-I', %s, %s)",
            [pk, first, last, email, role, is_active, self.created],
        )
        return pk

    def patient(self, first="John", last="Smith", dob=DOB, client_id=None, phone=None, email=None):
        pk = uuid.uuid4()
        # Distinct creation times, so "the person's first row" is well defined.
        self.created += datetime.timedelta(days=1)
        sql(
            "INSERT INTO patients (id, intakeq_client_id, first_name, last_name, date_of_birth,"
            " phone, email, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [pk, client_id, first, last, dob, phone, email, self.created],
        )
        return pk

    def enrollment(self, patient_id, **columns):
        pk = uuid.uuid4()
        columns = {"id": pk, "patient_id": patient_id, **columns}
        names = ", ".join(columns)
        marks = ", ".join(["%s"] * len(columns))
        sql(f"INSERT INTO cm_patients ({names}) VALUES ({marks})", list(columns.values()))  # noqa: S608
        return pk


def run(*args, **kwargs):
    out = StringIO()
    call_command("migrate_cm_legacy", *args, stdout=out, **kwargs)
    return out.getvalue()


@pytest.fixture
def report(tmp_path):
    path = tmp_path / "report.csv"

    def read():
        with path.open() as handle:
            return list(csv.DictReader(handle))

    read.path = str(path)
    return read


def enrollment_of(legacy_id):
    new_id = LegacyIdMap.objects.get(legacy_table="cm_patients", legacy_id=legacy_id).new_id
    return Enrollment.objects.get(pk=new_id)


def reasons(rows, legacy_id):
    return {row["reason"] for row in rows if row["legacy_id"] == str(legacy_id)}


def summary(output):
    """legacy table -> its numbers in the summary table, in the header's order."""
    rows = {}
    for line in output.splitlines():
        parts = line.split()
        tables = ("providers", "patients", "cm_patients")
        if len(parts) > 1 and parts[0] in tables and all(part.isdigit() for part in parts[1:]):
            rows[parts[0]] = [int(value) for value in parts[1:]]
    return rows


def table_digest(table):
    return sql(
        f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')), count(*) FROM {table} t"  # noqa: S608
    )[0]


# --- guard rails ---------------------------------------------------------------------------------


def test_missing_legacy_tables_fail_with_one_sentence():
    with pytest.raises(CommandError, match=r"legacy tables are missing .*cm_patients"):
        run()


def test_bad_map_status_is_refused(legacy):
    with pytest.raises(CommandError, match="--map-status expects VALUE=STATUS"):
        run("--map-status", "inactive=gone")


def test_a_report_path_that_is_a_directory_is_refused_before_anything_is_migrated(legacy, tmp_path):
    legacy.provider(role="cpss", email="a@example.com")

    with pytest.raises(CommandError, match="--report"):
        run("--report", str(tmp_path))

    assert not ProviderCM.objects.exists()


# --- providers -----------------------------------------------------------------------------------


def test_cpss_staff_become_providers_cm_with_roles_and_status_mapped(legacy, report):
    cpss = legacy.provider(role="cpss", email="a@example.com")
    supervisor = legacy.provider(role="cpss_supervisor", email="b@example.com", is_active=False)
    legacy.provider(role="psychiatrist", email="md@example.com")

    run("--report", report.path)

    assert ProviderCM.objects.count() == 2
    mapped = ProviderCM.objects.get(canonical_provider_id=cpss)
    assert (mapped.role, mapped.status) == ("cpss", "active")
    mapped = ProviderCM.objects.get(canonical_provider_id=supervisor)
    assert (mapped.role, mapped.status) == ("supervisor", "inactive")


def test_duplicate_and_blank_provider_emails_keep_every_row(legacy, report):
    first = legacy.provider(email="Same@Example.com")
    second = legacy.provider(email=" same@example.com ")
    legacy.provider(email="  ")
    legacy.provider(email="")

    run("--report", report.path)

    assert ProviderCM.objects.count() == 4
    # normalize_email: the domain lower-cased, the local part as typed.
    assert ProviderCM.objects.get(canonical_provider_id=first).email == "Same@example.com"
    assert ProviderCM.objects.get(canonical_provider_id=second).email is None
    assert ProviderCM.objects.filter(email__isnull=True).count() == 3
    assert reasons(report(), second) == {"duplicate_email_dropped"}


def test_names_with_copy_special_characters_arrive_intact(legacy, report):
    provider = legacy.provider(first="Tab\tBack\\slash", last="New\nline")

    run("--report", report.path)

    mapped = ProviderCM.objects.get(canonical_provider_id=provider)
    assert (mapped.first_name, mapped.last_name) == ("Tab\tBack\\slash", "New\nline")


# --- people --------------------------------------------------------------------------------------


def test_short_form_written_by_the_other_app_is_queued_for_review_not_merged(legacy, report):
    # identity.matching rates Jon/Jonathan 0.95: between the review and auto-link scores, so
    # staff decide; the migration has no scorer of its own that would merge them.
    intakeq = legacy.patient("Jonathan", "Smith", client_id="IQ-1")
    cm_row = legacy.patient("Jon", " SMITH ", client_id=None)
    legacy.enrollment(cm_row)

    run("--report", report.path)

    assert PatientCanonical.objects.get().first_name == "Jon"
    assert not PatientIntakeQLink.objects.exists()
    proposal = LinkProposal.objects.get()
    assert (proposal.intakeq_patient_id, proposal.score, proposal.status) == (
        intakeq,
        Decimal("0.95"),
        "pending",
    )


# The old app's rows have a blank client id: NULL, empty, spaces, or a tab (issue 11, M2).
@pytest.mark.parametrize("blank_id", [None, "", "  ", "\t"])
def test_person_written_by_both_apps_becomes_one_canonical_linked_to_intakeq(
    legacy, report, settings, blank_id
):
    settings.CM_AUTO_LINK_MIN_SCORE = 0.95  # the project's threshold decides, nothing else
    intakeq = legacy.patient("Jonathan", "Smith", client_id="IQ-1")
    cm_row = legacy.patient("Jon", " SMITH ", client_id=blank_id)
    legacy.enrollment(cm_row)

    run("--report", report.path)

    canonical = PatientCanonical.objects.get()
    assert (canonical.first_name, canonical.last_name) == ("Jonathan", "Smith")
    link = PatientIntakeQLink.objects.get()
    assert link.canonical_patient_id == canonical.pk
    assert link.intakeq_patient_id == intakeq
    assert link.confidence_score == Decimal("0.95")
    assert PatientCM.objects.get().canonical_patient_id == canonical.pk


def test_links_made_by_the_migration_are_in_the_link_history(legacy, report, settings):
    settings.CM_AUTO_LINK_MIN_SCORE = 0.95
    intakeq = legacy.patient("Jonathan", "Smith", client_id="IQ-1")
    legacy.enrollment(legacy.patient("Jon", "Smith"))

    run("--report", report.path)

    entry = LinkHistory.objects.get()
    assert (entry.intakeq_patient_id, entry.action, entry.automatic) == (intakeq, "linked", True)
    assert entry.canonical_patient_id == PatientCanonical.objects.get().pk


def test_accent_case_and_space_variants_are_one_person(legacy, report):
    first = legacy.patient("José", "Núñez")
    second = legacy.patient(" jose ", "NUNEZ")
    legacy.enrollment(first, program_name="A")
    legacy.enrollment(second, program_name="B")

    run("--report", report.path)

    assert PatientCanonical.objects.count() == 1
    assert PatientCM.objects.count() == 1
    assert Enrollment.objects.count() == 2
    outcomes = sorted(
        LegacyIdMap.objects.filter(legacy_table="patients").values_list("outcome", flat=True)
    )
    assert outcomes == ["merged", "migrated"]


def test_cm_app_rows_are_never_linked_as_intakeq_patients(legacy, report):
    first = legacy.patient("Maria", "Garcia", client_id=None)
    legacy.patient("Maria", "Garcia", client_id="   ")  # blank id: not a genuine IntakeQ row
    legacy.enrollment(first)

    run("--report", report.path)

    assert PatientCanonical.objects.count() == 1
    assert not PatientIntakeQLink.objects.exists()


def test_enrolled_intakeq_row_is_linked_with_full_confidence(legacy, report):
    intakeq = legacy.patient("Emily", "Davis", client_id="IQ-9")
    legacy.enrollment(intakeq)

    run("--report", report.path)

    link = PatientIntakeQLink.objects.get()
    assert (link.intakeq_patient_id, link.confidence_score) == (intakeq, Decimal("1.00"))


def test_uncertain_intakeq_match_is_reported_not_linked(legacy, report):
    intakeq = legacy.patient("Jonathan", "Smyth", client_id="IQ-2")
    cm_row = legacy.patient("Jon", "Smyth")
    legacy.enrollment(cm_row)

    run("--report", report.path)

    assert not PatientIntakeQLink.objects.exists()
    assert PatientCanonical.objects.get().first_name == "Jon"
    line = next(row for row in report() if row["legacy_id"] == str(cm_row))
    assert (line["reason"], line["kind"], line["related_id"]) == (
        "uncertain_intakeq_match",
        "note",
        str(intakeq),
    )


def test_uncertain_intakeq_match_is_queued_for_review_once(legacy, report):
    intakeq = legacy.patient("Jonathan", "Smyth", client_id="IQ-2")
    legacy.enrollment(legacy.patient("Jon", "Smyth"))

    run("--report", report.path)
    run("--report", report.path)

    proposal = LinkProposal.objects.get()
    assert (proposal.intakeq_patient_id, proposal.status) == (intakeq, "pending")
    assert proposal.canonical_patient == PatientCanonical.objects.get()


def test_weak_intakeq_match_above_the_review_score_is_queued_for_review(legacy, report):
    # Emily/Emma Smith scores 0.95 (nicknames): from the review score (0.70) up, staff look.
    intakeq = legacy.patient("Emma", "Smith", client_id="IQ-5")
    cm_row = legacy.patient("Emily", "Smith")
    legacy.enrollment(cm_row)

    run("--report", report.path)

    assert LinkProposal.objects.get().intakeq_patient_id == intakeq
    assert reasons(report(), cm_row) == {"uncertain_intakeq_match"}


def test_intakeq_match_below_the_review_score_is_ignored(legacy, report, settings):
    settings.CM_LINK_REVIEW_MIN_SCORE = 0.96
    legacy.patient("Emma", "Smith", client_id="IQ-5")
    cm_row = legacy.patient("Emily", "Smith")
    legacy.enrollment(cm_row)

    run("--report", report.path)

    assert not LinkProposal.objects.exists()
    assert reasons(report(), cm_row) == set()


def test_match_at_the_auto_link_score_setting_is_linked(legacy, report, settings):
    settings.CM_AUTO_LINK_MIN_SCORE = 0.80
    intakeq = legacy.patient("Emma", "Smith", client_id="IQ-5")
    legacy.enrollment(legacy.patient("Emily", "Smith"))

    run("--report", report.path)

    assert PatientIntakeQLink.objects.get().intakeq_patient_id == intakeq


def test_two_equally_good_intakeq_rows_are_not_guessed(legacy, report, settings):
    settings.CM_AUTO_LINK_MIN_SCORE = 0.95  # both reach it: 0.95 each
    legacy.patient("Jonathan", "Smith", client_id="IQ-3")
    legacy.patient("Johnny", "Smith", client_id="IQ-4")
    cm_row = legacy.patient("Jon", "Smith")
    legacy.enrollment(cm_row)

    run("--report", report.path)

    assert not PatientIntakeQLink.objects.exists()
    assert reasons(report(), cm_row) == {"ambiguous_intakeq_match"}


def test_patient_without_date_of_birth_is_reported_with_its_enrollment(legacy, report):
    patient = legacy.patient(dob=None)
    enrollment = legacy.enrollment(patient)

    output = run("--report", report.path)

    assert not PatientCanonical.objects.exists()
    assert reasons(report(), patient) == {"no_date_of_birth"}
    assert reasons(report(), enrollment) == {"patient_not_migrated:no_date_of_birth"}
    assert "Smith" not in output and "1985" not in output


def test_cm_fields_come_from_the_latest_legacy_row_with_values_mapped(legacy, report):
    patient = legacy.patient(phone="(801) 555-0100")
    legacy.enrollment(
        patient,
        program_name="Old",
        smartphone_access="no",
        enrollment_source="referral",
        updated_at="2020-01-01T00:00:00Z",
    )
    legacy.enrollment(
        patient,
        program_name="New",
        smartphone_access=" Y ",
        enrollment_source="Acute Care",
        insurance_primary="Utah Medicaid",
        updated_at="2024-01-01T00:00:00Z",
    )

    run("--report", report.path)

    cm = PatientCM.objects.get()
    assert (cm.smartphone_access, cm.enrollment_source) == ("yes", "acute_care")
    assert (cm.insurance_primary, cm.phone) == ("Utah Medicaid", "(801) 555-0100")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("yes", "yes"),
        ("Y", "yes"),
        ("true", "yes"),
        ("1", "yes"),
        ("No", "no"),
        ("0", "no"),
        ("limited", "limited"),
        (None, None),
    ],
)
def test_smartphone_access_values_are_mapped_by_the_table(legacy, report, raw, expected):
    legacy.enrollment(legacy.patient(), smartphone_access=raw)

    run("--report", report.path)

    assert PatientCM.objects.get().smartphone_access == expected


def test_unmappable_patient_values_are_left_empty_and_reported(legacy, report):
    enrollment = legacy.enrollment(
        legacy.patient(), smartphone_access="sometimes", enrollment_source="walk-in"
    )

    run("--report", report.path)

    cm = PatientCM.objects.get()
    assert (cm.smartphone_access, cm.enrollment_source) == (None, None)
    assert reasons(report(), enrollment) == {
        "unmapped_smartphone_access",
        "unmapped_enrollment_source",
    }
    assert Enrollment.objects.count() == 1


# --- enrollments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("active", "active"),
        ("Active", "active"),
        (" ACTIVE ", "active"),
        ("on hold", "paused"),
        ("paused", "paused"),
        ("completed", "graduated"),
        ("graduated", "graduated"),
        ("discharged", "withdrawn"),
        ("dropped", "withdrawn"),
        ("withdrawn", "withdrawn"),
    ],
)
def test_status_values_are_mapped_by_the_table(legacy, report, raw, expected):
    enrollment = legacy.enrollment(legacy.patient(), status=raw)

    run("--report", report.path)

    assert enrollment_of(enrollment).status == expected


@pytest.mark.parametrize(
    ("raw", "reason"), [("inactive", "ambiguous_status"), ("lost", "unknown_status")]
)
def test_unmappable_status_is_reported_not_guessed(legacy, report, raw, reason):
    enrollment = legacy.enrollment(legacy.patient(), status=raw)

    run("--report", report.path)

    assert not Enrollment.objects.exists()
    assert reasons(report(), enrollment) == {reason}


def test_map_status_lets_a_person_decide_an_ambiguous_value(legacy, report):
    enrollment = legacy.enrollment(legacy.patient(), status="inactive")

    run("--report", report.path, "--map-status", "Inactive=withdrawn")

    assert enrollment_of(enrollment).status == "withdrawn"


def test_enrollment_carries_program_cpss_and_legacy_values(legacy, report):
    cpss = legacy.provider(email="c@example.com")
    enrollment = legacy.enrollment(
        legacy.patient(),
        cpss_provider_id=cpss,
        program_name="  Stimulant   CM ",
        total_points=240,
        current_streak=6,
        enrollment_date="2024-02-03T10:00:00Z",
        medicaid_verification='{"verified": true}',
        pod_assignment="Pod A",
        notes="n",
        created_at="2024-02-01T00:00:00Z",
    )

    run("--report", report.path)

    new = enrollment_of(enrollment)
    assert new.cm_program.name == "Stimulant CM"
    assert new.cpss_provider.canonical_provider_id == cpss
    assert (new.total_points, new.current_streak, new.pod_assignment, new.notes) == (
        240,
        6,
        "Pod A",
        "n",
    )
    assert new.medicaid_verification == {"verified": True}
    assert new.enrollment_date == datetime.datetime(2024, 2, 3, 10, tzinfo=datetime.UTC)
    assert new.created_at == datetime.datetime(2024, 2, 1, tzinfo=datetime.UTC)
    assert new.cm_patient.canonical_patient_id == new.canonical_patient_id


def test_each_migrated_enrollment_starts_its_status_history(legacy, report):
    enrollment = legacy.enrollment(legacy.patient(), status="Paused")

    run("--report", report.path)

    change = enrollment_of(enrollment).status_changes.get()
    assert (change.from_status, change.to_status) == (None, "paused")


def test_null_program_name_goes_to_the_default_program(legacy, report):
    enrollment = legacy.enrollment(legacy.patient(), program_name=None)

    run("--report", report.path)

    assert enrollment_of(enrollment).cm_program.name == DEFAULT_PROGRAM_NAME


def test_program_names_match_existing_programs_ignoring_case(legacy, report):
    program = ContingencyManagementFactory(name="Stimulant CM")
    enrollment = legacy.enrollment(legacy.patient(), program_name="stimulant cm")

    run("--report", report.path)

    assert enrollment_of(enrollment).cm_program == program
    assert ContingencyManagement.objects.count() == 1


def test_enrollment_of_a_non_cpss_provider_is_reported(legacy, report):
    psychiatrist = legacy.provider(role="psychiatrist")
    enrollment = legacy.enrollment(legacy.patient(), cpss_provider_id=psychiatrist)

    run("--report", report.path)

    assert not Enrollment.objects.exists()
    line = next(row for row in report() if row["legacy_id"] == str(enrollment))
    assert (line["reason"], line["related_id"]) == ("cpss_provider_not_migrated", str(psychiatrist))


def test_two_enrollments_of_one_person_in_one_program_keep_the_earliest(legacy, report):
    patient = legacy.patient()
    other_row = legacy.patient("JOHN", "smith")
    kept = legacy.enrollment(patient, program_name="A", enrollment_date="2023-01-01T00:00:00Z")
    dropped = legacy.enrollment(other_row, program_name="a", enrollment_date="2024-01-01T00:00:00Z")

    run("--report", report.path)

    assert Enrollment.objects.count() == 1
    assert enrollment_of(kept)
    line = next(row for row in report() if row["legacy_id"] == str(dropped))
    assert (line["reason"], line["related_id"]) == (
        "duplicate_enrollment_same_person_program",
        str(kept),
    )


def test_existing_new_rows_are_merged_into_not_duplicated(legacy, report):
    canonical = PatientCanonicalFactory(first_name="John", last_name="Smith", date_of_birth=DOB)
    program = ContingencyManagementFactory(name="A")
    existing = Enrollment.objects.create(
        canonical_patient=canonical,
        cm_patient=PatientCM.objects.create(canonical_patient=canonical),
        cm_program=program,
        cpss_provider=ProviderCMFactory(),
    )
    enrollment = legacy.enrollment(legacy.patient(), program_name="A")

    output = run("--report", report.path)

    assert Enrollment.objects.get() == existing
    assert PatientCanonical.objects.get() == canonical
    assert LegacyIdMap.objects.get(legacy_table="cm_patients").outcome == "merged"
    assert enrollment_of(enrollment) == existing
    assert "Migration done" not in output


# --- nothing lost, nothing touched ---------------------------------------------------------------


@pytest.fixture
def messy(legacy):
    """A little of everything the old data holds."""
    cpss = legacy.provider(email="x@example.com")
    legacy.provider(email="X@example.com ")
    legacy.provider(role="psychiatrist")
    legacy.patient("Jonathan", "Smith", client_id="IQ-1")
    jon = legacy.patient("Jon", "Smith")
    legacy.enrollment(jon, cpss_provider_id=cpss, program_name="A")
    legacy.enrollment(jon, program_name=None, status="Active")
    legacy.enrollment(legacy.patient("jon", "smith"), program_name="a")  # duplicate
    legacy.enrollment(legacy.patient("Ann", "Lee", dob=None))
    legacy.enrollment(legacy.patient("Bea", "Ray"), status="inactive")
    for index in range(6):
        legacy.enrollment(legacy.patient(f"Person{index}", "Example"), status="graduated")
    return legacy


def test_counts_reconcile_for_every_legacy_table(messy, report):
    output = run("--report", report.path, "--batch-size", "3")

    counts = summary(output)
    # Every row of each table: the psychiatrist and the unenrolled IntakeQ row are skipped.
    assert {table: row[0] for table, row in counts.items()} == {
        "providers": 3,
        "patients": 11,
        "cm_patients": 11,
    }
    for read, already, migrated, merged, reported, skipped in counts.values():
        assert read == already + migrated + merged + reported + skipped
    assert counts["cm_patients"] == [11, 0, 8, 0, 3, 0]
    assert counts["patients"] == [11, 0, 8, 1, 1, 1]
    assert counts["providers"] == [3, 0, 2, 0, 0, 1]
    assert Enrollment.objects.count() == 8
    reported_lines = [r for r in report() if r["kind"] == "reported"]
    assert len(reported_lines) == sum(row[4] for row in counts.values())


def test_legacy_tables_are_unchanged_by_a_run(messy, report):
    before = [table_digest(table) for table in ("providers", "patients", "cm_patients")]

    run("--report", report.path, "--batch-size", "2")

    assert [table_digest(table) for table in ("providers", "patients", "cm_patients")] == before


def test_second_run_creates_nothing_and_says_so(legacy, report):
    legacy.enrollment(legacy.patient(), cpss_provider_id=legacy.provider(email="y@example.com"))
    run("--report", report.path)
    before = (
        PatientCanonical.objects.count(),
        Enrollment.objects.count(),
        LegacyIdMap.objects.count(),
    )

    output = run("--report", report.path)

    assert (
        PatientCanonical.objects.count(),
        Enrollment.objects.count(),
        LegacyIdMap.objects.count(),
    ) == before
    assert "Everything is already migrated; nothing was created." in output


def test_second_run_of_messy_data_creates_nothing_and_reports_again(messy, report):
    run("--report", report.path)
    first_report = report()
    counts = [
        m.objects.count()
        for m in (PatientCanonical, PatientCM, Enrollment, ProviderCM, PatientIntakeQLink)
    ]

    output = run("--report", report.path)

    assert [
        m.objects.count()
        for m in (PatientCanonical, PatientCM, Enrollment, ProviderCM, PatientIntakeQLink)
    ] == counts
    assert "Nothing new to migrate; 4 legacy rows still need reconciliation" in output
    assert {r["legacy_id"] for r in report() if r["kind"] == "reported"} == {
        r["legacy_id"] for r in first_report if r["kind"] == "reported"
    }


def test_dry_run_writes_nothing(messy):
    output = run("--dry-run")

    assert not PatientCanonical.objects.exists()
    assert not Enrollment.objects.exists()
    assert not ProviderCM.objects.exists()
    assert not ContingencyManagement.objects.exists()
    assert not LegacyIdMap.objects.exists()
    assert "Would create:" in output and "cm_enrollments 8" in output


def test_killed_run_resumes_without_duplicates(messy, report):
    class Killed(Exception):
        pass

    def kill_after_second_enrollment_batch(phase, number):
        if phase == "cm_patients" and number == 2:
            raise Killed

    with pytest.raises(Killed):
        migrate_cm_legacy(batch_size=2, after_batch=kill_after_second_enrollment_batch)
    after_kill = Enrollment.objects.count()
    assert 0 < after_kill < 8

    output = run("--report", report.path, "--batch-size", "2")

    assert Enrollment.objects.count() == 8
    assert PatientCanonical.objects.count() == 8
    pairs = list(Enrollment.objects.values_list("canonical_patient_id", "cm_program_id"))
    assert len(pairs) == len(set(pairs))
    read, already, migrated, merged, reported, skipped = summary(output)["cm_patients"]
    assert already == after_kill
    assert (read, already + migrated) == (11, 8)


def test_log_lines_hold_no_names(messy, report):
    output = run("--report", report.path)

    assert not any(name in output for name in ("Jon", "Smith", "Ann", "Lee", "example.com"))
    assert "cm_patients: 11/11 rows processed" in output


# --- the report: complete after a killed run, safe to open in a spreadsheet ----------------------


def test_rerun_after_a_killed_run_reports_every_note_made_by_either_run(legacy, report):
    class Killed(Exception):
        pass

    enrollments = [
        legacy.enrollment(legacy.patient(f"Person{index}", "Example"), smartphone_access="maybe")
        for index in range(6)
    ]

    def kill_after_second_people_batch(phase, number):
        if phase == "patients" and number == 2:
            raise Killed

    with pytest.raises(Killed):
        migrate_cm_legacy(batch_size=2, after_batch=kill_after_second_people_batch)
    assert 0 < PatientCM.objects.count() < 6

    run("--report", report.path, "--batch-size", "2")

    noted = {r["legacy_id"] for r in report() if r["reason"] == "unmapped_smartphone_access"}
    assert noted == {str(pk) for pk in enrollments}
    # Every empty value has its note: none is silently NULL.
    assert PatientCM.objects.filter(smartphone_access__isnull=True).count() == len(noted)


def test_notes_are_stored_once_however_many_runs_make_them(legacy, report):
    legacy.enrollment(legacy.patient(), smartphone_access="maybe")

    run("--report", report.path)
    run("--report", report.path)

    assert [r["reason"] for r in report() if r["kind"] == "note"] == ["unmapped_smartphone_access"]


def test_legacy_free_text_cannot_become_a_spreadsheet_formula(legacy, report):
    legacy.enrollment(legacy.patient("Ann", "One"), status='=HYPERLINK("http://x.example/")')
    legacy.enrollment(legacy.patient("Bea", "Two"), smartphone_access="=cmd|' /C calc'!A0")
    legacy.enrollment(legacy.patient("Cal", "Three"), enrollment_source="@SUM(1+1)")

    run("--report", report.path)

    values = sorted(r["value"] for r in report() if r["value"])
    assert values == ['\'=HYPERLINK("http://x.example/")', "'=cmd|' /C calc'!A0", "'@SUM(1+1)"]


def test_the_report_is_created_readable_by_its_owner_only(legacy, tmp_path, monkeypatch):
    legacy.enrollment(legacy.patient(), status="lost")
    path = tmp_path / "report.csv"
    modes = {}
    real_open = os.open

    def recording_open(file, flags, mode=0o777, *args, **kwargs):
        modes[str(file)] = mode
        return real_open(file, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)

    run("--report", str(path))

    assert modes.get(str(path)) == 0o600  # at creation, not chmod-ed afterwards
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- values the new tables refuse: reported, not crashed on ---------------------------------------


def test_negative_points_are_reported_not_migrated(legacy, report):
    kept = legacy.enrollment(legacy.patient("Ann", "Lee"), total_points=10)
    negative = legacy.enrollment(legacy.patient("Bea", "Ray"), total_points=-5)
    streak = legacy.enrollment(legacy.patient("Cal", "Fox"), current_streak=-1)

    run("--report", report.path)

    assert enrollment_of(kept).total_points == 10
    rows = report()
    assert reasons(rows, negative) == {"negative_points_or_streak"}
    assert reasons(rows, streak) == {"negative_points_or_streak"}


@pytest.mark.parametrize("first", ["Jo\u200bhn", "\u202eJohn", "Jo\nhn", "!!!"])
def test_a_name_the_pages_would_refuse_is_reported_not_migrated(legacy, report, first):
    patient = legacy.patient(first, "Smith")
    legacy.enrollment(patient)

    run("--report", report.path)

    assert not PatientCanonical.objects.exists()
    assert any(
        reason.endswith("name") or "name:" in reason for reason in reasons(report(), patient)
    )


def test_phones_typed_in_other_digits_arrive_in_ascii(legacy, report):
    legacy.enrollment(
        legacy.patient(phone="٨٠١٥٥٥٠١٢٣"), emergency_contact_phone="８０１５５５０１９９"
    )

    run("--report", report.path)

    cm = PatientCM.objects.get()
    assert (cm.phone, cm.emergency_contact_phone) == ("8015550123", "8015550199")


def test_migrated_points_get_an_opening_balance_and_check_clean(legacy):
    from incentives.models import LedgerEntry

    patient = legacy.patient()
    legacy.enrollment(patient, status="active", total_points=240, current_streak=6)
    migrate_cm_legacy()
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.points, entry.level_after, entry.streak_after) == (
        "opening_balance",
        240,
        6,
        6,
    )
    out = StringIO()
    call_command("incentives_check", stdout=out)
    assert "All 1 enrollments match" in out.getvalue()
