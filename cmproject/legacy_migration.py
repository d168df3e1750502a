"""Phase 2 of the seed's migration: the old CM data into the clean separation, losing nothing.

Reads the legacy tables of shared/legacy/legacy_schema.sql (``providers``, ``patients``,
``cm_patients``) and writes providers_cm, patients_canonical, patients_cm, patients_intakeq_link
and cm_enrollments. Legacy rows are only ever SELECTed.

Set-based on purpose (100k enrollments must take about as long as a plain INSERT ... SELECT):
legacy rows are read in primary-key batches, every mapping is a dict lookup in Python, and new
rows are written with COPY, one transaction per batch together with their ``legacy_id_map``
rows. Per-row ORM saves (and so the per-row services) would be two orders of magnitude slower;
the values written are built only from the mapping tables below, which yield nothing the
models' choices and the database's CHECK constraints would refuse.

Every legacy row read ends in exactly one outcome: already migrated (earlier run), migrated
(new row), merged (into a row that already existed), or reported (not migrated, with a reason,
in the reconciliation report). Notes are extra report lines about rows that were migrated.
"""

import csv
import datetime
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from cm_program.models import ContingencyManagement, Enrollment, PatientCM
from cmproject.models import LegacyIdMap
from identity.models import PatientCanonical
from identity.normalization import normalize_name
from identity.validators import EARLIEST_DATE_OF_BIRTH
from intakeq_link.models import PatientIntakeQLink
from providers.models import ProviderCM

LEGACY_TABLES = ("providers", "patients", "cm_patients")
DEFAULT_PROGRAM_NAME = "Legacy CM program (unnamed)"
DEFAULT_PROGRAM_DESCRIPTION = (
    "The single program the old CM app ran before programs had names (program_name NULL)."
)
# A CM-app row and an IntakeQ row of the same date of birth are worth scoring at all only
# from here; between this and settings.CM_AUTO_LINK_MIN_SCORE the pair is reported, not linked.
REVIEW_MIN_SCORE = 0.85
_ADVISORY_LOCK_KEY = 0x434D4C4547  # "CMLEG": one run at a time per database

# Free-text values -> the new vocabulary. Keys are compared after _code(): lower case, trimmed,
# runs of spaces, underscores and hyphens folded to one space. The README shows these tables.
STATUS_MAP = {
    "active": "active",
    "paused": "paused",
    "on hold": "paused",
    "hold": "paused",
    "graduated": "graduated",
    "completed": "graduated",
    "complete": "graduated",
    "withdrawn": "withdrawn",
    "discharged": "withdrawn",
    "dropped": "withdrawn",
    "dropped out": "withdrawn",
}
# 'inactive' could mean paused or withdrawn: a person decides (``--map-status inactive=...``).
AMBIGUOUS_STATUSES = {"inactive"}
SMARTPHONE_MAP = {
    "yes": "yes",
    "y": "yes",
    "true": "yes",
    "t": "yes",
    "1": "yes",
    "no": "no",
    "n": "no",
    "false": "no",
    "f": "no",
    "0": "no",
    "limited": "limited",
}
ENROLLMENT_SOURCE_MAP = {
    "acute care": "acute_care",
    "outpatient": "outpatient",
    "referral": "referral",
    "existing patient": "existing_patient",
}
PROVIDER_ROLE_MAP = {"cpss": "cpss", "cpss supervisor": "supervisor"}

_CODE_SEPARATORS = re.compile(r"[\s_\-]+")


def _code(value: str | None) -> str:
    return _CODE_SEPARATORS.sub(" ", value or "").strip().lower()


def _blank_to_none(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None


class LegacyTablesMissing(Exception):
    """The legacy tables are not in this database."""


class MigrationAlreadyRunning(Exception):
    """Another run holds the advisory lock."""


class _DryRunRollback(Exception):
    pass


@dataclass
class TableCounts:
    read: int = 0
    already: int = 0
    migrated: int = 0
    merged: int = 0
    reported: int = 0

    @property
    def balanced(self) -> bool:
        return self.read == self.already + self.migrated + self.merged + self.reported


@dataclass
class ReportLine:
    legacy_table: str
    legacy_id: object
    kind: str  # "reported" (not migrated) or "note" (migrated, but look at this)
    reason: str
    related_id: object = None
    value: str = ""


@dataclass
class MigrationResult:
    counts: dict[str, TableCounts] = field(
        default_factory=lambda: {table: TableCounts() for table in LEGACY_TABLES}
    )
    report: list[ReportLine] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    non_cpss_providers: int = 0
    dry_run: bool = False

    @property
    def created_total(self) -> int:
        return sum(self.created.values())

    @property
    def reported_total(self) -> int:
        return sum(c.reported for c in self.counts.values())

    @property
    def notes_total(self) -> int:
        return sum(1 for line in self.report if line.kind == "note")

    @property
    def everything_already_migrated(self) -> bool:
        return self.created_total == 0 and all(c.read == c.already for c in self.counts.values())


@dataclass
class _Person:
    """One legacy ``patients`` row, referenced by cm_patients or an IntakeQ twin of one."""

    pk: uuid.UUID
    intakeq_client_id: str | None
    first_name: str
    last_name: str
    date_of_birth: datetime.date | None
    phone: str | None
    email: str | None
    created_at: datetime.datetime
    referenced: bool

    @property
    def from_intakeq(self) -> bool:
        return self.intakeq_client_id is not None and bool(self.intakeq_client_id.strip())

    @property
    def key(self) -> tuple[str, str, datetime.date | None]:
        return (normalize_name(self.first_name), normalize_name(self.last_name), self.date_of_birth)


class _UnionFind:
    def __init__(self):
        self.parent: dict = {}

    def find(self, item):
        self.parent.setdefault(item, item)
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a, b):
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[root_b] = root_a


# --- name scoring -------------------------------------------------------------------------------


def _jaro_winkler(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    window = max(max(len(a), len(b)) // 2 - 1, 0)
    a_flags, b_flags = [False] * len(a), [False] * len(b)
    matches = 0
    for i, ch in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not b_flags[j] and b[j] == ch:
                a_flags[i] = b_flags[j] = True
                matches += 1
                break
    if not matches:
        return 0.0
    a_matched = [ch for ch, flag in zip(a, a_flags, strict=True) if flag]
    b_matched = [ch for ch, flag in zip(b, b_flags, strict=True) if flag]
    transpositions = sum(x != y for x, y in zip(a_matched, b_matched, strict=True)) / 2
    jaro = (matches / len(a) + matches / len(b) + (matches - transpositions) / matches) / 3
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


def _first_name_score(a: str, b: str) -> float:
    if a == b:
        return 1.0
    short, long = sorted((a, b), key=len)
    # 'Jon' / 'Jonathan', 'Chris' / 'Christopher': a short form written by the other app.
    if len(short) >= 3 and long.startswith(short):
        return 0.97
    return _jaro_winkler(a, b)


def name_score(first_a: str, last_a: str, first_b: str, last_b: str) -> float:
    """Similarity of two normalized names of people with the same date of birth, 0..1."""
    return (_first_name_score(first_a, first_b) + _jaro_winkler(last_a, last_b)) / 2


# --- the run ------------------------------------------------------------------------------------


ProgressFn = Callable[[str, int, int], None]


class LegacyMigration:
    def __init__(
        self,
        *,
        batch_size: int = 5000,
        status_overrides: dict[str, str] | None = None,
        progress: ProgressFn | None = None,
        after_batch: Callable[[str, int], None] | None = None,
    ):
        self.batch_size = batch_size
        self.status_map = {
            **STATUS_MAP,
            **{_code(k): v for k, v in (status_overrides or {}).items()},
        }
        self.progress = progress or (lambda phase, done, total: None)
        # Test hook: called after each committed batch with (phase, batch number).
        self.after_batch = after_batch or (lambda phase, number: None)
        self.auto_link_min = Decimal(str(settings.CM_AUTO_LINK_MIN_SCORE))
        self.result = MigrationResult()

    # entry point -------------------------------------------------------------------------------

    def run(self, *, dry_run: bool = False) -> MigrationResult:
        self.result.dry_run = dry_run
        self._check_legacy_tables()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_ADVISORY_LOCK_KEY])
            if not cursor.fetchone()[0]:
                raise MigrationAlreadyRunning
        try:
            if dry_run:
                # Every batch runs for real inside one outer transaction that is rolled back.
                try:
                    with transaction.atomic():
                        self._run_phases()
                        raise _DryRunRollback
                except _DryRunRollback:
                    pass
            else:
                self._run_phases()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_ADVISORY_LOCK_KEY])
        return self.result

    def _run_phases(self):
        self._migrate_providers()
        self._plan_people()
        self._migrate_people()
        self._migrate_enrollments()

    def _check_legacy_tables(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t FROM unnest(%s::text[]) AS t WHERE to_regclass(t) IS NULL",
                [list(LEGACY_TABLES)],
            )
            missing = [row[0] for row in cursor.fetchall()]
        if missing:
            raise LegacyTablesMissing(missing)

    # helpers -----------------------------------------------------------------------------------

    def _fetch(self, sql: str, params: Iterable = ()) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            return cursor.fetchall()

    def _report(self, table, legacy_id, reason, *, related_id=None, value=None, note=False):
        self.result.report.append(
            ReportLine(
                legacy_table=table,
                legacy_id=legacy_id,
                kind="note" if note else "reported",
                reason=reason,
                related_id=related_id,
                value=(value or "")[:40],
            )
        )
        if not note:
            self.result.counts[table].reported += 1

    def _copy(self, model, columns: list[str], rows: list[tuple], *, count: bool = True):
        if not rows:
            return
        table = model._meta.db_table
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        if count:
            self.result.created[table] += len(rows)

    def _write_map(self, table: str, new_table: str, entries: list[tuple]):
        """entries: (legacy_id, new_id, outcome)."""
        self._copy(
            LegacyIdMap,
            ["legacy_table", "legacy_id", "new_table", "new_id", "outcome"],
            [(table, legacy, new_table, new, outcome) for legacy, new, outcome in entries],
            count=False,
        )
        counts = self.result.counts[table]
        for _, _, outcome in entries:
            if outcome == LegacyIdMap.Outcome.MIGRATED:
                counts.migrated += 1
            else:
                counts.merged += 1

    def _mapped(self, table: str) -> dict[uuid.UUID, uuid.UUID]:
        return dict(
            LegacyIdMap.objects.filter(legacy_table=table).values_list("legacy_id", "new_id")
        )

    # phase 1: CPSS staff ---------------------------------------------------------------------

    def _migrate_providers(self):
        table = "providers"
        counts = self.result.counts[table]
        rows = self._fetch(
            "SELECT id, first_name, last_name, email, phone, role, credentials, is_active "
            "FROM providers ORDER BY created_at, id"
        )
        mapped = self._mapped(table)
        existing_by_legacy = dict(
            ProviderCM.objects.filter(canonical_provider_id__isnull=False).values_list(
                "canonical_provider_id", "pk"
            )
        )
        existing_by_email = {
            email.strip().lower(): pk
            for pk, email in ProviderCM.objects.filter(email__isnull=False).values_list(
                "pk", "email"
            )
        }
        new_rows, entries, emails_seen = [], [], {}
        for pk, first, last, email, phone, role, credentials, is_active in rows:
            new_role = PROVIDER_ROLE_MAP.get(_code(role))
            if new_role is None:
                self.result.non_cpss_providers += 1
                continue
            counts.read += 1
            if pk in mapped:
                counts.already += 1
                continue
            email = _blank_to_none(email)
            email = email.strip() if email else None
            email_key = email.lower() if email else None
            if pk in existing_by_legacy:
                entries.append((pk, existing_by_legacy[pk], LegacyIdMap.Outcome.MERGED))
                continue
            if email_key in existing_by_email:
                entries.append((pk, existing_by_email[email_key], LegacyIdMap.Outcome.MERGED))
                self._report(
                    table, pk, "merged_by_email", related_id=existing_by_email[email_key], note=True
                )
                continue
            if email_key in emails_seen:
                # providers_cm.email is UNIQUE: the earlier row keeps it, this one is kept too.
                self._report(
                    table,
                    pk,
                    "duplicate_email_dropped",
                    related_id=emails_seen[email_key],
                    note=True,
                )
                email = None
            elif email_key:
                emails_seen[email_key] = pk
            new_id = uuid.uuid4()
            new_rows.append(
                (
                    new_id,
                    pk,
                    first,
                    last,
                    email,
                    _blank_to_none(phone),
                    new_role,
                    _blank_to_none(credentials),
                    ProviderCM.Status.ACTIVE if is_active else ProviderCM.Status.INACTIVE,
                )
            )
            entries.append((pk, new_id, LegacyIdMap.Outcome.MIGRATED))
        with transaction.atomic():
            self._copy(
                ProviderCM,
                [
                    "id",
                    "canonical_provider_id",
                    "first_name",
                    "last_name",
                    "email",
                    "phone",
                    "role",
                    "credentials",
                    "status",
                ],
                new_rows,
            )
            self._write_map(table, ProviderCM._meta.db_table, entries)
        self.provider_map = {**mapped, **{legacy: new for legacy, new, _ in entries}}
        self.progress(table, counts.read, counts.read)
        self.after_batch(table, 1)

    # phase 2: people ---------------------------------------------------------------------------

    def _plan_people(self):
        """Group legacy patient rows into people (union-find), before anything is written.

        Edges: the same normalized name and date of birth; and a CM-app row (intakeq_client_id
        NULL) confidently matched to an IntakeQ row of the same date of birth (blocking on the
        date keeps this linear). Each group becomes one canonical patient.
        """
        columns = (
            "p.id, p.intakeq_client_id, p.first_name, p.last_name, p.date_of_birth, "
            "p.phone, p.email, p.created_at"
        )
        referenced = self._fetch(
            f"SELECT {columns} FROM patients p "  # noqa: S608 - constant column list
            "WHERE p.id IN (SELECT patient_id FROM cm_patients)"
        )
        twins = self._fetch(
            f"SELECT {columns} FROM patients p "  # noqa: S608 - constant column list
            "WHERE NULLIF(btrim(p.intakeq_client_id), '') IS NOT NULL "
            "AND p.id NOT IN (SELECT patient_id FROM cm_patients) "
            "AND p.date_of_birth IN (SELECT q.date_of_birth FROM patients q "
            "  JOIN cm_patients c ON c.patient_id = q.id "
            "  WHERE NULLIF(btrim(q.intakeq_client_id), '') IS NULL)"
        )
        people = {row[0]: _Person(*row, referenced=True) for row in referenced}
        people.update({row[0]: _Person(*row, referenced=False) for row in twins})
        self.people = people
        table = "patients"
        counts = self.result.counts[table]
        self.patient_map = self._mapped(table)
        self.unusable_people: dict[uuid.UUID, str] = {}
        today = datetime.date.today()  # noqa: DTZ011 - a date of birth has no time zone
        usable = {}
        for person in people.values():
            reason = None
            if not normalize_name(person.first_name) or not normalize_name(person.last_name):
                reason = "blank_name"
            elif person.date_of_birth is None:
                reason = "no_date_of_birth"
            elif not (EARLIEST_DATE_OF_BIRTH <= person.date_of_birth <= today):
                reason = "implausible_date_of_birth"
            if reason is None:
                usable[person.pk] = person
            elif person.referenced:
                counts.read += 1
                self.unusable_people[person.pk] = reason
                self._report(table, person.pk, reason)

        groups = _UnionFind()
        by_key = {}
        for person in usable.values():
            groups.find(person.pk)
            other = by_key.setdefault(person.key, person.pk)
            groups.union(other, person.pk)

        intakeq_by_dob = defaultdict(list)
        for person in usable.values():
            if person.from_intakeq:
                intakeq_by_dob[person.date_of_birth].append(person)
        self.link_scores: dict[uuid.UUID, Decimal] = {}
        for person in usable.values():
            if person.from_intakeq or not person.referenced:
                continue
            first, last, dob = person.key
            scored = []
            for candidate in intakeq_by_dob.get(dob, ()):
                c_first, c_last, _ = candidate.key
                # Blocking: one of the two names must agree before the other is scored.
                if c_first != first and c_last != last:
                    continue
                score = name_score(first, last, c_first, c_last)
                if score >= REVIEW_MIN_SCORE:
                    scored.append((score, candidate))
            if not scored:
                continue
            scored.sort(key=lambda item: (-item[0], item[1].created_at, str(item[1].pk)))
            best_score, best = scored[0]
            confident = [s for s, _ in scored if s >= self.auto_link_min]
            distinct_people = {groups.find(c.pk) for s, c in scored if s >= self.auto_link_min}
            if confident and len(distinct_people) == 1:
                groups.union(best.pk, person.pk)
                self.link_scores[best.pk] = max(
                    self.link_scores.get(best.pk, Decimal(0)), _score(best_score)
                )
            else:
                reason = "ambiguous_intakeq_match" if confident else "uncertain_intakeq_match"
                self._report(
                    table,
                    person.pk,
                    reason,
                    related_id=best.pk,
                    note=True,
                    value=str(_score(best_score)),
                )

        members = defaultdict(list)
        for pk in usable:
            members[groups.find(pk)].append(usable[pk])
        # An IntakeQ row no CM row matched is someone else's patient: not ours to migrate.
        self.groups = [g for g in members.values() if any(p.referenced for p in g)]
        self.group_of = {p.pk: index for index, group in enumerate(self.groups) for p in group}
        for group in self.groups:
            group.sort(key=lambda p: (not p.from_intakeq, p.created_at, str(p.pk)))

    def _migrate_people(self):
        table = "patients"
        counts = self.result.counts[table]
        existing_canonical = {
            (first, last, dob): pk
            for pk, first, last, dob in PatientCanonical.objects.values_list(
                "pk", "first_name_normalized", "last_name_normalized", "date_of_birth"
            )
        }
        cm_by_canonical = dict(PatientCM.objects.values_list("canonical_patient_id", "pk"))
        links = list(
            PatientIntakeQLink.objects.values_list("canonical_patient_id", "intakeq_patient_id")
        )
        linked_canonicals = {c for c, _ in links if c}
        linked_intakeq = {i for _, i in links if i}
        cm_fields = self._latest_cm_fields()
        statuses = self._person_statuses()

        self.canonical_of_group: dict[int, uuid.UUID] = {}
        self.cm_patient_of_group: dict[int, uuid.UUID] = {}
        total = len(self.groups)
        for start in range(0, total, self.batch_size):
            chunk = range(start, min(start + self.batch_size, total))
            canonical_rows, cm_rows, link_rows, entries = [], [], [], []
            for index in chunk:
                group = self.groups[index]
                referenced = [p for p in group if p.referenced]
                counts.read += len(referenced)
                mapped = {self.patient_map[p.pk] for p in referenced if p.pk in self.patient_map}
                if len(mapped) > 1:
                    # Earlier runs made two people of what is now one: a person must merge them.
                    for person in referenced:
                        self._report(table, person.pk, "conflicting_earlier_migration")
                    continue
                existing = next(
                    (existing_canonical[p.key] for p in group if p.key in existing_canonical), None
                )
                canonical_id = next(iter(mapped), None) or existing
                created = canonical_id is None
                if created:
                    canonical_id = uuid.uuid4()
                    head = group[0]
                    canonical_rows.append(
                        (
                            canonical_id,
                            head.first_name.strip(),
                            head.last_name.strip(),
                            head.date_of_birth,
                        )
                    )
                    existing_canonical[head.key] = canonical_id
                self.canonical_of_group[index] = canonical_id
                for position, person in enumerate(referenced):
                    if person.pk in self.patient_map:
                        counts.already += 1
                        continue
                    first_new = created and position == 0
                    outcome = (
                        LegacyIdMap.Outcome.MIGRATED if first_new else LegacyIdMap.Outcome.MERGED
                    )
                    entries.append((person.pk, canonical_id, outcome))

                cm_id = cm_by_canonical.get(canonical_id)
                if cm_id is None:
                    cm_id = uuid.uuid4()
                    cm_by_canonical[canonical_id] = cm_id
                    cm_rows.append(self._cm_row(cm_id, canonical_id, group, cm_fields, statuses))
                elif not mapped and referenced:
                    self._report(
                        table,
                        referenced[0].pk,
                        "cm_record_already_existed_fields_not_applied",
                        related_id=cm_id,
                        note=True,
                    )
                self.cm_patient_of_group[index] = cm_id

                intakeq_rows = [p for p in group if p.from_intakeq]
                if intakeq_rows and canonical_id not in linked_canonicals:
                    chosen = next((p for p in intakeq_rows if p.pk not in linked_intakeq), None)
                    if chosen is None:
                        self._report(
                            table,
                            intakeq_rows[0].pk,
                            "intakeq_row_linked_to_another_person",
                            note=True,
                        )
                    else:
                        score = (
                            Decimal("1.00")
                            if chosen.referenced
                            else self.link_scores.get(chosen.pk, Decimal("1.00"))
                        )
                        link_rows.append((uuid.uuid4(), canonical_id, chosen.pk, score))
                        linked_canonicals.add(canonical_id)
                        linked_intakeq.add(chosen.pk)
                    for extra in intakeq_rows:
                        if extra is not chosen and extra.pk not in linked_intakeq:
                            self._report(
                                table, extra.pk, "second_intakeq_row_not_linked", note=True
                            )
            with transaction.atomic():
                self._copy(
                    PatientCanonical,
                    ["id", "first_name", "last_name", "date_of_birth"],
                    canonical_rows,
                )
                self._copy(PatientCM, CM_COLUMNS, cm_rows)
                self._copy(
                    PatientIntakeQLink,
                    ["id", "canonical_patient_id", "intakeq_patient_id", "confidence_score"],
                    link_rows,
                )
                self._write_map(table, PatientCanonical._meta.db_table, entries)
            self.progress(table, chunk.stop, total)
            self.after_batch(table, start // self.batch_size + 1)

    def _latest_cm_fields(self) -> dict[uuid.UUID, tuple]:
        """The CM columns of each legacy patient's most recently updated cm_patients row."""
        columns = ", ".join(LEGACY_CM_FIELDS)
        rows = self._fetch(
            f"SELECT DISTINCT ON (patient_id) patient_id, id, updated_at, {columns} "  # noqa: S608
            "FROM cm_patients ORDER BY patient_id, updated_at DESC, created_at DESC, id DESC"
        )
        return {row[0]: row[1:] for row in rows}

    def _person_statuses(self) -> dict[int, str]:
        """Each person's participation status: that of their latest mappable enrollment."""
        rows = self._fetch(
            "SELECT patient_id, status FROM cm_patients ORDER BY enrollment_date, id"
        )
        statuses = {}
        for patient_id, status in rows:
            mapped = self.status_map.get(_code(status))
            group = self.group_of.get(patient_id)
            if mapped and group is not None:
                statuses[group] = mapped
        return statuses

    def _cm_row(self, cm_id, canonical_id, group, cm_fields, statuses) -> tuple:
        candidates = [cm_fields[p.pk] for p in group if p.pk in cm_fields]
        legacy_id, _, *values = max(candidates, key=lambda row: (row[1], str(row[0])))
        fields = dict(zip(LEGACY_CM_FIELDS, values, strict=True))
        raw_source, raw_phone = fields["enrollment_source"], fields["smartphone_access"]
        source = ENROLLMENT_SOURCE_MAP.get(_code(raw_source))
        if _blank_to_none(raw_source) and source is None:
            self._report(
                "cm_patients", legacy_id, "unmapped_enrollment_source", value=raw_source, note=True
            )
        smartphone = SMARTPHONE_MAP.get(_code(raw_phone))
        if _blank_to_none(raw_phone) and smartphone is None:
            self._report(
                "cm_patients", legacy_id, "unmapped_smartphone_access", value=raw_phone, note=True
            )
        # Contact details: those the old CM app typed, else the IntakeQ chart's (seed scenario 2).
        contact = next((p for p in group if not p.from_intakeq and p.referenced), group[0])
        index = self.group_of[group[0].pk]
        return (
            cm_id,
            canonical_id,
            _blank_to_none(contact.phone),
            _blank_to_none(contact.email),
            fields["insurance_primary"],
            fields["medicaid_id"],
            source,
            fields["consent_date"],
            smartphone,
            fields["emergency_contact_name"],
            fields["emergency_contact_phone"],
            fields["address_street"],
            fields["address_city"],
            fields["address_state"],
            fields["address_zip"],
            fields["preferred_language"],
            statuses.get(index),
        )

    # phase 3: enrollments ----------------------------------------------------------------------

    def _migrate_enrollments(self):
        table = "cm_patients"
        counts = self.result.counts[table]
        mapped = self._mapped(table)
        programs = self._programs()
        keepers = self._enrollment_keepers(programs)
        existing = {
            (c, p): pk
            for pk, c, p in Enrollment.objects.values_list(
                "pk", "canonical_patient_id", "cm_program_id"
            )
        }
        total = self._fetch("SELECT count(*) FROM cm_patients")[0][0]
        last_id, number = None, 0
        while True:
            # Keyset pagination on the primary key: each batch is one short indexed query.
            rows = self._fetch(
                "SELECT id, patient_id, cpss_provider_id, program_name, status, total_points, "
                "current_streak, enrollment_date, medicaid_verification::text, pod_assignment, "
                "notes, created_at, updated_at FROM cm_patients "
                "WHERE %s::uuid IS NULL OR id > %s ORDER BY id LIMIT %s",
                [last_id, last_id, self.batch_size],
            )
            if not rows:
                break
            last_id = rows[-1][0]
            number += 1
            new_rows, entries = [], []
            for row in rows:
                outcome = self._enrollment_row(row, mapped, programs, keepers, existing)
                if outcome is None:
                    continue
                kind, payload = outcome
                if kind == "new":
                    new_rows.append(payload)
                    entries.append((row[0], payload[0], LegacyIdMap.Outcome.MIGRATED))
                else:
                    entries.append((row[0], payload, LegacyIdMap.Outcome.MERGED))
            counts.read += len(rows)
            with transaction.atomic():
                self._copy(Enrollment, ENROLLMENT_COLUMNS, new_rows)
                self._write_map(table, Enrollment._meta.db_table, entries)
            self.progress(table, counts.read, total)
            self.after_batch(table, number)

    def _enrollment_row(self, row, mapped, programs, keepers, existing):
        table = "cm_patients"
        (
            pk,
            patient_id,
            cpss_id,
            program_name,
            status,
            points,
            streak,
            enrolled,
            verification,
            pod,
            notes,
            created_at,
            updated_at,
        ) = row
        if pk in mapped:
            self.result.counts[table].already += 1
            return None
        group = self.group_of.get(patient_id)
        if group is None or group not in self.canonical_of_group:
            reason = self.unusable_people.get(patient_id)
            if reason is None and patient_id not in self.people:
                reason = "dangling_patient_id"
            self._report(
                table, pk, f"patient_not_migrated:{reason or 'conflict'}", related_id=patient_id
            )
            return None
        cpss = None
        if cpss_id is not None:
            cpss = self.provider_map.get(cpss_id)
            if cpss is None:
                self._report(table, pk, "cpss_provider_not_migrated", related_id=cpss_id)
                return None
        new_status = self.status_map.get(_code(status))
        if new_status is None:
            reason = "ambiguous_status" if _code(status) in AMBIGUOUS_STATUSES else "unknown_status"
            self._report(table, pk, reason, value=status)
            return None
        program_id = programs[_program_key(program_name)]
        keeper = keepers[(group, program_id)]
        if keeper != pk:
            self._report(table, pk, "duplicate_enrollment_same_person_program", related_id=keeper)
            return None
        canonical_id = self.canonical_of_group[group]
        if (canonical_id, program_id) in existing:
            merged_into = existing[(canonical_id, program_id)]
            self._report(
                table,
                pk,
                "enrollment_already_existed_fields_not_applied",
                related_id=merged_into,
                note=True,
            )
            return "merged", merged_into
        new_id = uuid.uuid4()
        existing[(canonical_id, program_id)] = new_id
        return "new", (
            new_id,
            canonical_id,
            self.cm_patient_of_group[group],
            program_id,
            cpss,
            points,
            streak,
            enrolled,
            new_status,
            verification,
            pod,
            notes,
            created_at,
            updated_at,
        )

    def _programs(self) -> dict[str, uuid.UUID]:
        """program key -> program id, creating the programs legacy rows name (and the default)."""
        names = [row[0] for row in self._fetch("SELECT DISTINCT program_name FROM cm_patients")]
        programs = {
            _program_key(name): pk
            for pk, name in ContingencyManagement.objects.values_list("pk", "name")
        }
        wanted = {}
        for name in sorted(names, key=lambda n: (n is None, n or "")):
            key = _program_key(name)
            if key not in programs and key not in wanted:
                wanted[key] = (
                    (DEFAULT_PROGRAM_NAME, DEFAULT_PROGRAM_DESCRIPTION)
                    if key == _program_key(None)
                    else (" ".join(name.split()), "")
                )
        new = [ContingencyManagement(name=n, description=d) for n, d in wanted.values()]
        with transaction.atomic():
            ContingencyManagement.objects.bulk_create(new)
        self.result.created[ContingencyManagement._meta.db_table] += len(new)
        programs.update({key: program.pk for key, program in zip(wanted, new, strict=True)})
        return programs

    def _enrollment_keepers(self, programs) -> dict[tuple[int, uuid.UUID], uuid.UUID]:
        """(person, program) -> the one legacy enrollment that becomes cm_enrollments' row.

        An enrollment migrated by an earlier run stays the keeper; otherwise the earliest
        enrollment_date (then created_at, id). The others are reported, not merged, because
        their points and streaks cannot be added up without a person deciding.
        """
        mapped = set(
            LegacyIdMap.objects.filter(legacy_table="cm_patients").values_list(
                "legacy_id", flat=True
            )
        )
        rows = self._fetch(
            "SELECT id, patient_id, program_name, status, cpss_provider_id FROM cm_patients "
            "ORDER BY enrollment_date, created_at, id"
        )
        keepers = {}
        for pk, patient_id, program_name, status, cpss_id in rows:
            group = self.group_of.get(patient_id)
            if (
                group is None
                or self.status_map.get(_code(status)) is None
                or (cpss_id is not None and cpss_id not in self.provider_map)
            ):
                continue
            key = (group, programs[_program_key(program_name)])
            if key not in keepers or pk in mapped:
                keepers[key] = pk
        return keepers


def _program_key(name: str | None) -> str:
    # Blank and NULL names are the old app's single unnamed program, kept under one clear name.
    return " ".join((name or "").split()).casefold() or DEFAULT_PROGRAM_NAME.casefold()


def _score(value: float) -> Decimal:
    return Decimal(str(round(min(max(value, 0.0), 1.0), 2)))


LEGACY_CM_FIELDS = [
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
]
CM_COLUMNS = [
    "id",
    "canonical_patient_id",
    "phone",
    "email",
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
    "status",
]
ENROLLMENT_COLUMNS = [
    "id",
    "canonical_patient_id",
    "cm_patient_id",
    "cm_program_id",
    "cpss_provider_id",
    "total_points",
    "current_streak",
    "enrollment_date",
    "status",
    "medicaid_verification",
    "pod_assignment",
    "notes",
    "created_at",
    "updated_at",
]


def write_report(result: MigrationResult, path: Path) -> Path:
    """CSV, ids and reasons only: no names, dates of birth or free text beyond the coded value."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["legacy_table", "legacy_id", "kind", "reason", "related_id", "value"])
        for line in result.report:
            writer.writerow(
                [
                    line.legacy_table,
                    line.legacy_id,
                    line.kind,
                    line.reason,
                    line.related_id or "",
                    line.value,
                ]
            )
    path.chmod(0o600)
    return path


def migrate_cm_legacy(
    *,
    dry_run: bool = False,
    batch_size: int = 5000,
    status_overrides: dict[str, str] | None = None,
    progress: ProgressFn | None = None,
    after_batch: Callable[[str, int], None] | None = None,
) -> MigrationResult:
    """Run the migration; see the module docstring. Raises LegacyTablesMissing early."""
    migration = LegacyMigration(
        batch_size=batch_size,
        status_overrides=status_overrides,
        progress=progress,
        after_batch=after_batch,
    )
    return migration.run(dry_run=dry_run)
