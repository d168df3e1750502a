"""Phase 2 of the design: the old CM data into the clean separation, losing nothing.

Reads the legacy tables (``providers``, ``patients``, ``cm_patients``; only ever SELECTed) and
writes providers_cm, patients_canonical, patients_cm, patients_intakeq_link (with its history and
review queue) and cm_enrollments. docs/legacy-migration.md describes it.

Set-based on purpose (100k enrollments must take about as long as a plain INSERT ... SELECT):
legacy rows are read in a few light queries, every mapping is a dict lookup in Python, and new
rows are written with COPY or INSERT ... SELECT, one transaction per batch together with their
``legacy_id_map`` rows, so a rerun carries on where a killed run stopped.
"""

from django.db import connection, transaction

from legacy.bulk import store_notes, stored_notes
from legacy.enrollments import migrate_enrollments
from legacy.people import migrate_people
from legacy.plan import plan_people, read_enrollments
from legacy.providers import migrate_providers
from legacy.report import write_report
from legacy.results import (
    LEGACY_TABLES,
    AfterBatchFn,
    Batching,
    MigrationResult,
    ProgressFn,
)
from legacy.values import status_map_with

__all__ = [
    "LEGACY_TABLES",
    "LegacyTablesMissing",
    "MigrationAlreadyRunning",
    "MigrationResult",
    "migrate_cm_legacy",
    "write_report",
]

_ADVISORY_LOCK_KEY = 0x434D4C4547  # "CMLEG": one run at a time per database


class LegacyTablesMissing(Exception):
    """The legacy tables are not in this database."""


class MigrationAlreadyRunning(Exception):
    """Another run holds the advisory lock."""


class _DryRunRollback(Exception):
    pass


def migrate_cm_legacy(
    *,
    dry_run: bool = False,
    batch_size: int = 10000,
    status_overrides: dict[str, str] | None = None,
    progress: ProgressFn | None = None,
    after_batch: AfterBatchFn | None = None,
) -> MigrationResult:
    """Run the migration; raises LegacyTablesMissing or MigrationAlreadyRunning before writing.

    ``status_overrides`` maps more legacy status values (``--map-status``); ``progress`` hears
    (legacy table, rows done, total) after each batch; ``after_batch`` is a test hook.
    """
    _check_legacy_tables()
    batching = Batching(size=batch_size, progress=progress, after_batch=after_batch)
    status_map = status_map_with(status_overrides)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_ADVISORY_LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise MigrationAlreadyRunning
    try:
        if not dry_run:
            return _run_phases(batching, status_map)
        # Every batch runs for real inside one outer transaction that is rolled back.
        try:
            with transaction.atomic():
                result = _run_phases(batching, status_map)
                raise _DryRunRollback
        except _DryRunRollback:
            result.dry_run = True
            return result
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_ADVISORY_LOCK_KEY])


def _run_phases(batching: Batching, status_map: dict[str, str]) -> MigrationResult:
    result = MigrationResult()
    providers = migrate_providers(batching)
    result.add(providers)
    result.non_cpss_providers = providers.non_cpss
    plan = plan_people()
    # The plan's notes (uncertain IntakeQ matches) are made again by every run; stored now, a
    # run killed before their people's batch still leaves them for the report.
    with transaction.atomic():
        store_notes(plan)
    result.add(plan)
    index = read_enrollments(plan, status_map)
    people = migrate_people(batching, plan, index)
    result.add(people)
    result.add(migrate_enrollments(batching, plan, index, people, providers.provider_map))
    result.report_notes_from(stored_notes())
    return result


def _check_legacy_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t FROM unnest(%s::text[]) AS t WHERE to_regclass(t) IS NULL",
            [list(LEGACY_TABLES)],
        )
        missing = [row[0] for row in cursor.fetchall()]
    if missing:
        raise LegacyTablesMissing(missing)
