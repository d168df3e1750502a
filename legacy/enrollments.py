"""Enrollments: each cm_patients row becomes one cm_enrollments row of its person and program
(or is reported), with the first row of its status history and, when it has points or a streak,
an opening-balance entry in the incentive ledger (so ``incentives_check`` passes after a run)."""

from dataclasses import dataclass, field

from django.db import connection, transaction

from cm_program.models import ContingencyManagement, Enrollment, EnrollmentStatusChange
from cm_program.pods import pods_fold
from incentives.models import LedgerEntry
from incentives.services import opening_balances_record
from legacy.bulk import already_mapped, fetch, new_id, plan_table, write_id_map
from legacy.models import LegacyIdMap
from legacy.people import PeopleDone
from legacy.plan import MAX_LABEL_LENGTH, CmRow, EnrollmentIndex, PeoplePlan
from legacy.results import Batching, PhaseLog
from legacy.values import (
    AMBIGUOUS_STATUSES,
    DEFAULT_PROGRAM_DESCRIPTION,
    DEFAULT_PROGRAM_NAME,
    HISTORY_REASON,
    OPENING_BALANCE_REASON,
    code,
    program_key,
)

_PLAN_COLUMNS = (
    "legacy_id uuid, new_id uuid, canonical_id uuid, cm_patient_id uuid, "
    "program_id uuid, cpss_id uuid, status text"
)
_INSERT_SQL = (
    "INSERT INTO cm_enrollments (id, canonical_patient_id, cm_patient_id, "
    "cm_program_id, cpss_provider_id, total_points, current_streak, enrollment_date, "
    "status, medicaid_verification, pod_assignment, notes, created_at, updated_at) "
    "SELECT plan.new_id, plan.canonical_id, plan.cm_patient_id, plan.program_id, "
    "plan.cpss_id, c.total_points, c.current_streak, c.enrollment_date, plan.status, "
    "c.medicaid_verification, c.pod_assignment, c.notes, c.created_at, c.updated_at "
    "FROM migrate_cm_plan_enrollment plan JOIN cm_patients c ON c.id = plan.legacy_id"
)
# Every enrollment starts its status history with one row, as enrollment_create does.
_HISTORY_SQL = (
    "INSERT INTO cm_enrollment_status_changes (enrollment_id, from_status, to_status, "
    "reason) SELECT new_id, NULL, status, %s FROM migrate_cm_plan_enrollment"
)


@dataclass(kw_only=True)
class EnrollmentsDone(PhaseLog):
    table: str = "cm_patients"
    programs: dict[str, str] = field(default_factory=dict)  # program key -> program id


def migrate_enrollments(
    batching: Batching,
    plan: PeoplePlan,
    index: EnrollmentIndex,
    people: PeopleDone,
    provider_map: dict[str, str],
) -> EnrollmentsDone:
    done = EnrollmentsDone()
    done.programs = _programs(done, index)
    planner = _Planner(done, plan, people, provider_map, index)
    rows = sorted(index.rows, key=lambda row: row.pk)  # primary-key batches
    total = len(rows)
    for number, chunk in batching.ranges(total):
        new_rows, entries = [], []
        for row in rows[chunk.start : chunk.stop]:
            new_row, entry = planner.decide(row)
            if new_row:
                new_rows.append(new_row)
            if entry:
                entries.append(entry)
        done.counts.read += len(chunk)
        with transaction.atomic():
            _insert_enrollments(done, new_rows)
            write_id_map(done, Enrollment._meta.db_table, entries)
        batching.committed(done.table, number, done.counts.read, total)
    return done


def _programs(done: EnrollmentsDone, index: EnrollmentIndex) -> dict[str, str]:
    """program key -> program id, creating the programs legacy rows name (and the default)."""
    names = {row.program_name for row in index.rows if _label_too_long(row) is None}
    programs = {
        program_key(name): str(pk)
        for pk, name in ContingencyManagement.objects.values_list("pk", "name")
    }
    wanted = {}
    for name in sorted(names, key=lambda n: (n is None, n or "")):
        key = program_key(name)
        if key not in programs and key not in wanted:
            wanted[key] = (
                (DEFAULT_PROGRAM_NAME, DEFAULT_PROGRAM_DESCRIPTION)
                if key == program_key(None)
                else (" ".join(name.split()), "")
            )
    new = [ContingencyManagement(name=n, description=d) for n, d in wanted.values()]
    with transaction.atomic():
        ContingencyManagement.objects.bulk_create(new)
    done.created[ContingencyManagement._meta.db_table] += len(new)
    programs.update({key: str(program.pk) for key, program in zip(wanted, new, strict=True)})
    return programs


def _label_too_long(row: CmRow) -> str | None:
    """The report's reason when the row's program or pod name is too long to store, else None."""
    if row.program_name is not None and len(row.program_name) > MAX_LABEL_LENGTH:
        return "program_name_too_long"
    if row.pod_length is not None and row.pod_length > MAX_LABEL_LENGTH:
        return "pod_assignment_too_long"
    return None


# Counts the new table refuses (cm_enrollments' CHECK constraints): reported, not guessed.
_NEGATIVE_COUNTS_SQL = (
    "SELECT id::text FROM cm_patients WHERE total_points < 0 OR current_streak < 0"
)


class _Planner:
    """Decides each legacy enrollment: new row, merged into an existing one, or reported."""

    def __init__(self, done, plan, people, provider_map, index):
        self.done, self.plan, self.people = done, plan, people
        self.negative_counts = {row[0] for row in fetch(_NEGATIVE_COUNTS_SQL)}
        self.provider_map = provider_map
        self.mapped = already_mapped(done.table)
        self.keepers = self._keepers(index)
        self.existing = {
            (str(c), str(p)): str(pk)
            for pk, c, p in Enrollment.objects.values_list(
                "pk", "canonical_patient_id", "cm_program_id"
            )
        }

    def _keepers(self, index: EnrollmentIndex) -> dict[tuple[int, str], str]:
        """(person, program) -> the one legacy enrollment that becomes cm_enrollments' row.

        An enrollment migrated by an earlier run stays the keeper; otherwise the earliest
        enrollment_date (then created_at, id). The others are reported, not merged, because
        their points and streaks cannot be added up without a person deciding.
        """
        keepers = {}
        for row in index.rows:
            group = self.plan.group_of.get(row.patient_id)
            if (
                group is None
                or row.status_new is None
                or (row.cpss_id is not None and row.cpss_id not in self.provider_map)
                or row.pk in self.negative_counts
                or _label_too_long(row) is not None
            ):
                continue
            key = (group, self.done.programs[program_key(row.program_name)])
            if key not in keepers or row.pk in self.mapped:
                keepers[key] = row.pk
        return keepers

    def decide(self, row: CmRow) -> tuple[tuple | None, tuple | None]:
        """(plan row of a new enrollment or None, legacy_id_map entry or None)."""
        if row.pk in self.mapped:
            self.done.counts.already += 1
            return None, None
        if self._reported_instead(row):
            return None, None
        group = self.plan.group_of[row.patient_id]
        program_id = self.done.programs[program_key(row.program_name)]
        canonical_id = self.people.canonical_of_group[group]
        merged_into = self.existing.get((canonical_id, program_id))
        if merged_into:
            self.done.note(
                row.pk, "enrollment_already_existed_fields_not_applied", related_id=merged_into
            )
            return None, (row.pk, merged_into, LegacyIdMap.Outcome.MERGED)
        enrollment_id = new_id()
        self.existing[(canonical_id, program_id)] = enrollment_id
        cm_patient_id = self.people.cm_patient_of_group[group]
        cpss = self.provider_map.get(row.cpss_id) if row.cpss_id is not None else None
        new_row = (row.pk, enrollment_id, canonical_id, cm_patient_id, program_id, cpss,
                   row.status_new)  # fmt: skip
        return new_row, (row.pk, enrollment_id, LegacyIdMap.Outcome.MIGRATED)

    def _reported_instead(self, row: CmRow) -> bool:
        """Whether the row cannot become an enrollment (it is then reported, with the reason)."""
        done = self.done
        group = self.plan.group_of.get(row.patient_id)
        if group is None or group not in self.people.canonical_of_group:
            reason = self.plan.unusable.get(row.patient_id)
            if reason is None and row.patient_id not in self.plan.people:
                reason = "dangling_patient_id"
            done.reported(
                row.pk, f"patient_not_migrated:{reason or 'conflict'}", related_id=row.patient_id
            )
            return True
        if row.cpss_id is not None and row.cpss_id not in self.provider_map:
            done.reported(row.pk, "cpss_provider_not_migrated", related_id=row.cpss_id)
            return True
        if row.pk in self.negative_counts:
            done.reported(row.pk, "negative_points_or_streak")
            return True
        if too_long := _label_too_long(row):
            done.reported(row.pk, too_long)
            return True
        if row.status_new is None:
            ambiguous = code(row.status) in AMBIGUOUS_STATUSES
            reason = "ambiguous_status" if ambiguous else "unknown_status"
            done.reported(row.pk, reason, value=row.status)
            return True
        program_id = done.programs[program_key(row.program_name)]
        keeper = self.keepers[(group, program_id)]
        if keeper != row.pk:
            done.reported(row.pk, "duplicate_enrollment_same_person_program", related_id=keeper)
            return True
        return False


def _insert_enrollments(done: EnrollmentsDone, plan: list[tuple]) -> None:
    if not plan:
        return
    plan_table("migrate_cm_plan_enrollment", _PLAN_COLUMNS, plan)
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL)
        cursor.execute(_HISTORY_SQL, [HISTORY_REASON])
    # The old app's free-text pods join each program's list, one spelling per pod.
    pods_fold(program_ids={row[4] for row in plan})
    done.created[Enrollment._meta.db_table] += len(plan)
    done.created[EnrollmentStatusChange._meta.db_table] += len(plan)
    # The migrated points and streak become the ledger's opening balance, same transaction.
    done.created[LedgerEntry._meta.db_table] += opening_balances_record(
        enrollment_ids=[row[1] for row in plan], reason=OPENING_BALANCE_REASON
    )
