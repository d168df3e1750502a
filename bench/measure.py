"""Each measurement, next to its baseline, in the same run and on the same data.

A measurement whose target is not in this checkout yet reports ``not available`` instead of
failing, so the small run (and its test) passes while the features land one by one.
"""

import contextlib
import gc
import importlib
import inspect
import math
import random
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, is_dataclass
from io import StringIO
from pathlib import Path

from django.db import connection, transaction
from django.db.models.query import QuerySet
from django.test.utils import CaptureQueriesContext

from bench import data
from bench.data import Size

OK = "ok"
NOT_AVAILABLE = "not available"
ERROR = "error"


@dataclass
class Row:
    key: str
    operation: str
    unit: str
    ours: float | None = None
    baseline: float | None = None
    status: str = OK
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.baseline in (None, 0):
            return None
        return self.ours / self.baseline

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def unavailable(keys: list[tuple[str, str, str]], why: str, status: str = NOT_AVAILABLE):
    return [Row(key, operation, unit, status=status, note=why) for key, operation, unit in keys]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: a value that was actually observed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def materialize(value):
    """Evaluate lazy results, so a lazy return value cannot hide queries from the count."""
    if isinstance(value, QuerySet):
        return [materialize(item) for item in value]
    if isinstance(value, dict):
        return {key: materialize(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [materialize(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        return materialize(vars(value))
    return value


def timed_calls(functions: dict, arguments: list, *, warm_up: int = 5) -> tuple[dict, dict]:
    """Call each function once per argument, alternating which goes first to cancel drift.

    The first ``warm_up`` arguments are called once beforehand, untimed. A step whose every
    argument reads other pages of an index (the matcher: each lookup reads the dates around
    another birthday) passes them all, so it is timed against a database holding its indexes in
    memory, as a serving one does, not one that has just been built and not yet read them.

    Returns per-function latencies (seconds) and the most queries any one call made. Queries
    are counted in calls of their own, never timed: Django's query capture formats each
    statement's SQL with its parameters, which cost the matcher about 1 ms a call.
    """
    latencies = {name: [] for name in functions}
    max_queries = dict.fromkeys(functions, 0)
    names = list(functions)

    def count(name, argument):
        with CaptureQueriesContext(connection) as queries:
            materialize(functions[name](argument))
        max_queries[name] = max(max_queries[name], len(queries))

    for argument in arguments[:warm_up]:
        for name in names:
            count(name, argument)
    # As gunicorn.conf.py's workers do once the app is loaded: a full collection walking the
    # process's long-lived objects (~90 ms) would land on whichever call was running.
    gc.collect()
    gc.freeze()
    try:
        for index, argument in enumerate(arguments):
            order = names if index % 2 == 0 else names[::-1]
            for name in order:
                start = time.perf_counter()
                materialize(functions[name](argument))
                latencies[name].append(time.perf_counter() - start)
            if index % 10 == 0:
                for name in names:
                    count(name, argument)
    finally:
        gc.unfreeze()
    return latencies, max_queries


def cm_patient_ids(size: Size, count: int, rng: random.Random) -> list[str]:
    indices = rng.sample(range(size.cm), min(count, size.cm))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i, " + data.uid("canon", "i") + " FROM unnest(%s::int[]) AS i", [indices]
        )
        return [str(row[1]) for row in cursor.fetchall()]


# --- complete patient view --------------------------------------------------------------------


def seed_four_queries(canonical_patient_id):
    """The seed's getCompletePatientView: four separate round trips, one per table."""
    from cm_program.models import Enrollment, PatientCM
    from identity.models import PatientCanonical
    from intakeq_link.models import PatientIntakeQLink

    canonical = PatientCanonical.objects.get(pk=canonical_patient_id)
    cm_data = PatientCM.objects.filter(canonical_patient_id=canonical_patient_id).first()
    link = (
        PatientIntakeQLink.objects.select_related("intakeq_patient")
        .filter(canonical_patient_id=canonical_patient_id)
        .first()
    )
    enrollments = list(
        Enrollment.objects.select_related("cpss_provider").filter(
            canonical_patient_id=canonical_patient_id
        )
    )
    return {
        "identity": canonical,
        "cm": cm_data,
        "intakeq": link.intakeq_patient if link else None,
        "enrollment": enrollments,
    }


def call_by_first_parameter(function, value):
    """Call with the value under the function's first parameter name (it may be keyword-only)."""
    first = next(iter(inspect.signature(function).parameters.values()))
    if first.kind == inspect.Parameter.POSITIONAL_ONLY:
        return function(value)
    return function(**{first.name: value})


def measure_patient_view(size: Size, rng: random.Random) -> list[Row]:
    keys = [
        ("patient_view.queries", "complete patient view: SQL queries", "queries"),
        ("patient_view.p50_ms", "complete patient view: p50", "ms"),
        ("patient_view.p95_ms", "complete patient view: p95", "ms"),
    ]
    ours = None
    with contextlib.suppress(ImportError, AttributeError):
        ours = importlib.import_module("identity.selectors").get_complete_patient_view
    ids = cm_patient_ids(size, size.samples, rng)
    functions = {"baseline": seed_four_queries}
    if ours is not None:
        functions["ours"] = lambda pk: call_by_first_parameter(ours, pk)
    latencies, queries = timed_calls(functions, ids)
    note = f"{len(ids)} random CM patients; baseline: the seed's 4 separate queries (ORM)"
    baseline = [
        queries["baseline"],
        ms(percentile(latencies["baseline"], 50)),
        ms(percentile(latencies["baseline"], 95)),
    ]
    if ours is None:
        rows = unavailable(keys, "identity.selectors.get_complete_patient_view not in this build")
        for row, value in zip(rows, baseline, strict=True):
            row.baseline = value
        return rows
    measured = [
        queries["ours"],
        ms(percentile(latencies["ours"], 50)),
        ms(percentile(latencies["ours"], 95)),
    ]
    return [
        Row(*key, ours=value, baseline=base, note=note)
        for key, value, base in zip(keys, measured, baseline, strict=True)
    ]


# --- matcher ---------------------------------------------------------------------------------


def exact_lookup(person):
    """The baseline: one indexed exact lookup on the normalized identity (a unique index)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, first_name, last_name, date_of_birth FROM patients_canonical"
            " WHERE first_name_normalized = cm_normalize_name(%s)"
            " AND last_name_normalized = cm_normalize_name(%s) AND date_of_birth = %s",
            [person[0], person[1], person[2]],
        )
        return cursor.fetchall()


def random_people(size: Size, count: int, rng: random.Random) -> list[tuple]:
    indices = rng.sample(range(size.canonical), min(count, size.canonical))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT first_name, last_name, date_of_birth FROM patients_canonical"
            " WHERE id = ANY(ARRAY(SELECT "
            + data.uid("canon", "i")
            + " FROM unnest(%s::int[]) i))",
            [indices],
        )
        return cursor.fetchall()


def measure_matcher(size: Size, rng: random.Random) -> list[Row]:
    keys = [
        ("find_candidates.queries", "find_candidates: SQL queries", "queries"),
        ("find_candidates.p50_ms", "find_candidates: p50", "ms"),
        ("find_candidates.p95_ms", "find_candidates: p95", "ms"),
        ("find_candidates.p50_vs_before_ms", "find_candidates: p50, vs before issue 13", "ms"),
        ("find_candidates.p95_vs_before_ms", "find_candidates: p95, vs before issue 13", "ms"),
    ]
    try:
        from bench.before import find_candidates_before
        from identity.matching import find_candidates
    except ImportError:
        return unavailable(keys, "identity.matching.find_candidates not in this build")
    people = random_people(size, size.samples, rng)
    # Half the lookups are typed the way staff type: other case, stray spaces.
    typed = [
        (f" {first.upper()}", last.lower(), dob) if index % 2 else (first, last, dob)
        for index, (first, last, dob) in enumerate(people)
    ]

    def ours(p):
        return find_candidates(first_name=p[0], last_name=p[1], date_of_birth=p[2])

    def before(p):
        return find_candidates_before(first_name=p[0], last_name=p[1], date_of_birth=p[2])

    # The old code timed in a pass of its own: its 15 ms of Python and SQL between two lookups
    # left the next lookup (ours or the exact one) about 0.7 ms slower.
    latencies, queries = timed_calls(
        {"ours": ours, "baseline": exact_lookup}, typed, warm_up=len(typed)
    )
    before_latencies, _ = timed_calls({"before": before}, typed, warm_up=len(typed))
    found = sum(
        1
        for p in typed[:20]
        if find_candidates(first_name=p[0], last_name=p[1], date_of_birth=p[2])
    )
    note = (
        f"{len(typed)} existing people, half re-typed; baseline: exact lookup on the normalized "
        f"name+DOB unique index; ours found {found}/{min(20, len(typed))} checked"
    )
    return [
        Row(*keys[0], ours=queries["ours"], baseline=queries["baseline"], note=note),
        Row(*keys[1], ours=ms(percentile(latencies["ours"], 50)),
            baseline=ms(percentile(latencies["baseline"], 50)), note=note),
        Row(*keys[2], ours=ms(percentile(latencies["ours"], 95)),
            baseline=ms(percentile(latencies["baseline"], 95)), note=note),
        Row(*keys[3], ours=ms(percentile(latencies["ours"], 50)),
            baseline=ms(percentile(before_latencies["before"], 50)), note=BEFORE_NOTE),
        Row(*keys[4], ours=ms(percentile(latencies["ours"], 95)),
            baseline=ms(percentile(before_latencies["before"], 95)), note=BEFORE_NOTE),
    ]  # fmt: skip


BEFORE_NOTE = (
    "baseline: the code before issue 13 (bench/before.py) on the same data; issue 13 measured "
    "it at p50 8 ms, p95 20 ms and find-or-create at 5 statements, 0.12x a plain INSERT"
)


# --- find_or_create throughput ------------------------------------------------------------------


def letters(number: int) -> str:
    """A name-safe spelling of a number (names must look like names: letters only)."""
    out = ""
    while True:
        number, digit = divmod(number, 26)
        out = chr(ord("a") + digit) + out
        if number == 0:
            return out


def run_workers(workers: int, total: int, operation) -> tuple[float, int]:
    """Run ``operation(worker, i)`` ``total`` times over ``workers`` threads (each thread has its
    own database connection); return (operations per second, failures)."""
    failures = []
    barrier = threading.Barrier(workers + 1)

    def work(worker: int):
        from django.db import connections

        try:
            connections["default"].ensure_connection()
            barrier.wait()
            for i in range(worker, total, workers):
                try:
                    operation(worker, i)
                except Exception as exc:  # counted and reported, never silently dropped
                    failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return (total - len(failures)) / elapsed, len(failures)


def measure_find_or_create(size: Size, rng: random.Random) -> list[Row]:
    keys = [
        ("find_or_create.1_worker", "find_or_create_canonical_patient, 1 worker", "ops/s"),
        ("find_or_create.8_workers", "find_or_create_canonical_patient, 8 workers", "ops/s"),
        ("find_or_create.1_worker_vs_before", "find_or_create, 1 worker, vs before issue 13",
         "ops/s"),
        ("find_or_create.statements", "find_or_create: SQL statements, vs before issue 13",
         "queries"),
    ]  # fmt: skip
    try:
        from bench.before import find_or_create_before
        from identity.services import find_or_create_canonical_patient
    except ImportError:
        return unavailable(keys, "identity.services.find_or_create_canonical_patient missing")

    def person(tag: str, i: int):
        dob = f"{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        return "Bench" + tag, "Zz" + letters(i), dob

    def ours(tag):
        def operation(worker, i):
            first, last, dob = person(tag, i)
            patient, created = find_or_create_canonical_patient(
                first_name=first, last_name=last, date_of_birth=dob
            )
            if not created:
                raise AssertionError("a new person was found instead of created")

        return operation

    def baseline(tag):
        def operation(worker, i):
            from django.db import connection as conn

            with conn.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO patients_canonical (first_name, last_name, date_of_birth)"
                    " VALUES (%s, %s, %s)",
                    person(tag, i),
                )

        return operation

    rows = []
    for (key, operation, unit), workers in zip(keys[:2], (1, 8), strict=True):
        tag = letters(workers + 100)
        ours_rate, ours_failed = run_workers(workers, size.writes, ours("o" + tag))
        base_rate, base_failed = run_workers(workers, size.writes, baseline("b" + tag))
        note = (
            f"{size.writes} new people, threads with one connection each; "
            "baseline: plain autocommit INSERTs"
        )
        status = OK
        if ours_failed or base_failed:
            status = ERROR
            note += f"; failures: ours {ours_failed}, baseline {base_failed}"
        rows.append(Row(key, operation, unit, round(ours_rate, 1), round(base_rate, 1),
                        status, note))  # fmt: skip
    return [*rows, *_find_or_create_vs_before(size, keys[2:], person, find_or_create_before)]


def _find_or_create_vs_before(size: Size, keys, person, before) -> list[Row]:
    from identity.services import find_or_create_canonical_patient

    def operation(function, tag):
        def run(worker, i):
            first, last, dob = person(tag, i)
            function(first_name=first, last_name=last, date_of_birth=dob)

        return run

    ours_rate, ours_failed = run_workers(
        1, size.writes, operation(find_or_create_canonical_patient, "on" + letters(300))
    )
    before_rate, before_failed = run_workers(1, size.writes, operation(before, "bn" + letters(300)))
    statements = {}
    for name, function in (("ours", find_or_create_canonical_patient), ("before", before)):
        first, last, dob = person("st" + name, 1)
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            function(first_name=first, last_name=last, date_of_birth=dob)  # new: the common case
            transaction.set_rollback(True)
        statements[name] = len(queries)
    status = ERROR if ours_failed or before_failed else OK
    return [
        Row(*keys[0], round(ours_rate, 1), round(before_rate, 1), status, BEFORE_NOTE),
        Row(*keys[1], statements["ours"], statements["before"], OK,
            "a new person, inside a transaction (as the enrollment pages call it); " + BEFORE_NOTE),
    ]  # fmt: skip


# --- migrate_cm_legacy -----------------------------------------------------------------------

TARGET_TABLES = [
    "cm_enrollments", "patients_cm", "patients_intakeq_link", "patients_canonical",
    "providers_cm", "contingency_management",
]  # fmt: skip

# The same legacy rows moved with plain set-based SQL: no matching beyond the exact normalized
# identity, no review queue, no per-row checks. It is the floor, not a correct migration.
# ANALYZE after each table it fills, as anyone running such SQL by hand would.
BASELINE_MIGRATION = [
    """INSERT INTO contingency_management (name)
       SELECT DISTINCT COALESCE(NULLIF(initcap(btrim(program_name)), ''), 'CM Program')
       FROM cm_patients ON CONFLICT (name) DO NOTHING""",
    """INSERT INTO providers_cm (id, first_name, last_name, email, phone, role, credentials,
                                status)
       SELECT id, btrim(first_name), btrim(last_name), lower(email), phone,
              CASE WHEN role = 'cpss_supervisor' THEN 'supervisor' ELSE 'cpss' END,
              credentials, CASE WHEN is_active THEN 'active' ELSE 'inactive' END
       FROM providers WHERE role IN ('cpss', 'cpss_supervisor') ON CONFLICT DO NOTHING""",
    """INSERT INTO patients_canonical (first_name, last_name, date_of_birth)
       SELECT btrim(p.first_name), btrim(p.last_name), p.date_of_birth
       FROM patients p
       WHERE p.date_of_birth IS NOT NULL
         AND EXISTS (SELECT 1 FROM cm_patients c WHERE c.patient_id = p.id)
       ON CONFLICT DO NOTHING""",
    "ANALYZE patients_canonical",
    """CREATE TEMP TABLE bench_legacy_person ON COMMIT DROP AS
       SELECT c.*, pc.id AS canonical_id, p.phone AS person_phone, p.email AS person_email
       FROM cm_patients c
       JOIN patients p ON p.id = c.patient_id
       JOIN patients_canonical pc
         ON pc.first_name_normalized = cm_normalize_name(p.first_name)
        AND pc.last_name_normalized = cm_normalize_name(p.last_name)
        AND pc.date_of_birth = p.date_of_birth""",
    "ANALYZE bench_legacy_person",
    """INSERT INTO patients_cm (canonical_patient_id, phone, email, insurance_primary,
           medicaid_id, enrollment_source, consent_date, smartphone_access,
           emergency_contact_name, emergency_contact_phone, address_street, address_city,
           address_state, address_zip, preferred_language, status)
       SELECT DISTINCT ON (canonical_id) canonical_id, person_phone, person_email,
              insurance_primary, medicaid_id,
              CASE WHEN lower(btrim(enrollment_source)) IN
                   ('acute_care', 'outpatient', 'referral', 'existing_patient')
                   THEN lower(btrim(enrollment_source)) END,
              consent_date,
              CASE WHEN lower(btrim(smartphone_access)) IN ('yes', 'y', 'true') THEN 'yes'
                   WHEN lower(btrim(smartphone_access)) = 'limited' THEN 'limited'
                   WHEN lower(btrim(smartphone_access)) IN ('no', 'n', 'false') THEN 'no' END,
              emergency_contact_name, emergency_contact_phone, address_street, address_city,
              COALESCE(address_state, 'UT'), address_zip, COALESCE(preferred_language, 'English'),
              CASE WHEN lower(btrim(status)) IN ('active', 'paused', 'graduated', 'withdrawn')
                   THEN lower(btrim(status))
                   WHEN lower(btrim(status)) = 'inactive' THEN 'paused'
                   ELSE 'withdrawn' END
       FROM bench_legacy_person ORDER BY canonical_id, updated_at DESC""",
    "ANALYZE patients_cm",
    """INSERT INTO cm_enrollments (canonical_patient_id, cm_patient_id, cm_program_id,
           cpss_provider_id, total_points, current_streak, enrollment_date, status,
           medicaid_verification, pod_assignment, notes)
       SELECT l.canonical_id, pcm.id, cm.id, pr.id, l.total_points, l.current_streak,
              l.enrollment_date,
              CASE WHEN lower(btrim(l.status)) IN ('active', 'paused', 'graduated', 'withdrawn')
                   THEN lower(btrim(l.status))
                   WHEN lower(btrim(l.status)) = 'inactive' THEN 'paused'
                   ELSE 'withdrawn' END,
              l.medicaid_verification, l.pod_assignment, l.notes
       FROM bench_legacy_person l
       JOIN patients_cm pcm ON pcm.canonical_patient_id = l.canonical_id
       JOIN contingency_management cm
         ON cm.name = COALESCE(NULLIF(initcap(btrim(l.program_name)), ''), 'CM Program')
       LEFT JOIN providers_cm pr ON pr.id = l.cpss_provider_id
       ON CONFLICT DO NOTHING""",
    """INSERT INTO patients_intakeq_link (canonical_patient_id, intakeq_patient_id,
           confidence_score)
       SELECT DISTINCT ON (pc.id) pc.id, p.id, 1.00
       FROM patients_canonical pc
       JOIN patients p
         ON cm_is_intakeq_client_id(p.intakeq_client_id)
        AND p.date_of_birth = pc.date_of_birth
        AND cm_normalize_name(p.last_name) = pc.last_name_normalized
        AND cm_normalize_name(p.first_name) = pc.first_name_normalized
       ORDER BY pc.id, p.id
       ON CONFLICT DO NOTHING""",
]


def empty_targets() -> None:
    """Empty the new tables, and migrate_cm_legacy's own bookkeeping of what it already moved
    (so its rerun-safety does not turn the second run into a no-op)."""
    from django.apps import apps

    tables = list(TARGET_TABLES)
    for model in ("LegacyIdMap", "MigrationNote"):
        with contextlib.suppress(LookupError):
            tables.append(apps.get_model("legacy", model)._meta.db_table)
    with connection.cursor() as cursor:
        # The history tables refuse TRUNCATE by trigger; the benchmark's own throwaway database
        # is emptied as its owner (a superuser here), with ordinary triggers off.
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


def target_counts() -> dict:
    with connection.cursor() as cursor:
        counts = {}
        for table in (
            "patients_canonical",
            "patients_cm",
            "cm_enrollments",
            "patients_intakeq_link",
        ):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
        return counts


def measure_migration(size: Size, legacy_built: bool) -> list[Row]:
    """Runs last: it empties the new tables, as they are when the real migration runs."""
    keys = [
        ("migrate_cm_legacy.seconds", f"migrate_cm_legacy, {size.legacy} legacy rows", "s"),
        ("migrate_cm_legacy.rows_per_s", "migrate_cm_legacy: legacy rows per second", "rows/s"),
    ]
    from django.core.management import call_command, get_commands

    if not legacy_built:
        return unavailable(keys, "tests/fixtures/legacy_schema.sql not found")
    empty_targets()
    from core.audit_context import command_context

    start = time.perf_counter()
    # In an audit context, as migrate_cm_legacy runs: without one, pghistory's triggers open a
    # subtransaction per row (an exception handler around the unset setting), and reading rows
    # written under 100k subtransactions in the same transaction is what the baseline would time.
    with (
        command_context("bench-baseline"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        for statement in BASELINE_MIGRATION:
            cursor.execute(statement)
    baseline_seconds = time.perf_counter() - start
    baseline_counts = target_counts()
    if "migrate_cm_legacy" not in get_commands():
        rows = unavailable(keys, "manage.py migrate_cm_legacy not in this build")
        for row in rows:
            row.baseline = round(
                baseline_seconds if row.unit == "s" else size.legacy / baseline_seconds, 3
            )
        return rows
    empty_targets()
    start = time.perf_counter()
    output = StringIO()
    with tempfile.TemporaryDirectory(prefix="bench-migrate-") as folder:
        try:
            call_command(
                "migrate_cm_legacy",
                report=Path(folder) / "report.csv",
                stdout=output,
                stderr=StringIO(),
            )
        except Exception as exc:
            return unavailable(keys, f"migrate_cm_legacy failed: {exc}", ERROR)
    ours_seconds = time.perf_counter() - start
    note = f"rows made, ours {target_counts()} vs baseline {baseline_counts}"
    return [
        Row(*keys[0], ours=round(ours_seconds, 3), baseline=round(baseline_seconds, 3), note=note),
        Row(*keys[1], ours=round(size.legacy / ours_seconds, 1),
            baseline=round(size.legacy / baseline_seconds, 1), note=note),
    ]  # fmt: skip
