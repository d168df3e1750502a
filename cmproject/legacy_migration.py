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
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from rapidfuzz.distance import JaroWinkler

from cm_program.models import (
    ContingencyManagement,
    Enrollment,
    EnrollmentStatusChange,
    PatientCM,
)
from core.audit_context import bind_context_to_transaction
from identity.models import PatientCanonical
from identity.normalization import normalize_name
from identity.validators import EARLIEST_DATE_OF_BIRTH
from intakeq_link.models import LinkHistory, LinkProposal, PatientIntakeQLink
from legacy.models import LegacyIdMap
from providers.models import ProviderCM

LEGACY_TABLES = ("providers", "patients", "cm_patients")
HISTORY_REASON = "Migrated from the old CM app (migrate_cm_legacy)."
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

    pk: str
    intakeq_client_id: str | None
    first_name: str
    last_name: str
    date_of_birth: datetime.date | None
    referenced: bool
    rank: int  # position in (created_at, id) order: "the earlier row"
    from_intakeq: bool = field(init=False)
    key: tuple[str, str, datetime.date | None] = field(init=False)

    def __post_init__(self):
        self.from_intakeq = bool(self.intakeq_client_id and self.intakeq_client_id.strip())
        self.key = (_normalize(self.first_name), _normalize(self.last_name), self.date_of_birth)


def _normalize(name: str) -> str:
    # Plain ASCII names normalize to lower case with single spaces; skipping the Unicode and
    # regex work for them is what keeps 100k names fast. Anything else takes the full rules.
    if name.isascii() and name.replace(" ", "").isalnum():
        return " ".join(name.lower().split())
    return normalize_name(name)


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


def _first_name_score(a: str, b: str) -> float:
    if a == b:
        return 1.0
    short, long = sorted((a, b), key=len)
    # 'Jon' / 'Jonathan', 'Chris' / 'Christopher': a short form written by the other app.
    if len(short) >= 3 and long.startswith(short):
        return 0.97
    return JaroWinkler.similarity(a, b)


def name_score(first_a: str, last_a: str, first_b: str, last_b: str) -> float:
    """Similarity of two normalized names of people with the same date of birth, 0..1."""
    return (_first_name_score(first_a, first_b) + JaroWinkler.similarity(last_a, last_b)) / 2


# --- the run ------------------------------------------------------------------------------------


ProgressFn = Callable[[str, int, int], None]


class LegacyMigration:
    def __init__(
        self,
        *,
        batch_size: int = 10000,
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
        self._copy_into(model._meta.db_table, columns, rows)
        if count and rows:
            self.result.created[model._meta.db_table] += len(rows)

    def _copy_into(self, table: str, columns: list[str], rows: list[tuple]):
        if not rows:
            return
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        # One text block per batch: much faster than write_row's per-value adaptation.
        data = "".join("\t".join(map(_copy_field, row)) + "\n" for row in rows)
        # COPY bypasses Django's cursor.execute, where the audit context is attached.
        bind_context_to_transaction()
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            copy.write(data)

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

    def _mapped(self, table: str) -> dict[str, str]:
        return _text_ids(
            LegacyIdMap.objects.filter(legacy_table=table).values_list("legacy_id", "new_id")
        )

    # phase 1: CPSS staff ---------------------------------------------------------------------

    def _migrate_providers(self):
        table = "providers"
        counts = self.result.counts[table]
        rows = self._fetch(
            "SELECT id::text, first_name, last_name, email, phone, role, credentials, is_active "
            "FROM providers ORDER BY created_at, id"
        )
        mapped = self._mapped(table)
        existing_by_legacy = _text_ids(
            ProviderCM.objects.filter(canonical_provider_id__isnull=False).values_list(
                "canonical_provider_id", "pk"
            )
        )
        existing_by_email = {
            email.strip().lower(): str(pk)
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
            new_id = _new_id()
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
        # The enrolled rows, and the IntakeQ rows born on a day a CM-app row was: the only ones
        # a CM-app row could be matched to.
        rows = self._fetch(
            "SELECT p.id::text, p.intakeq_client_id, p.first_name, p.last_name, p.date_of_birth, "
            "r.referenced FROM patients p JOIN ("
            "  SELECT DISTINCT patient_id AS id, true AS referenced FROM cm_patients"
            "  UNION ALL"
            "  SELECT q.id, false FROM patients q"
            "  WHERE NULLIF(btrim(q.intakeq_client_id), '') IS NOT NULL"
            "  AND NOT EXISTS (SELECT 1 FROM cm_patients c WHERE c.patient_id = q.id)"
            "  AND q.date_of_birth IN (SELECT x.date_of_birth FROM patients x"
            "    JOIN cm_patients c ON c.patient_id = x.id"
            "    WHERE NULLIF(btrim(x.intakeq_client_id), '') IS NULL)"
            ") r ON r.id = p.id ORDER BY p.created_at, p.id"
        )
        people = {row[0]: _Person(*row, rank=rank) for rank, row in enumerate(rows)}
        self.people = people
        table = "patients"
        counts = self.result.counts[table]
        self.patient_map = self._mapped(table)
        self.unusable_people: dict[str, str] = {}
        today = datetime.date.today()  # noqa: DTZ011 - a date of birth has no time zone
        usable = {}
        for person in people.values():
            reason = None
            if not person.key[0] or not person.key[1]:
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

        # Rows with the same key are one person by definition; the union-find only joins keys
        # that a confident IntakeQ match ties together.
        groups = _UnionFind()

        intakeq_by_dob = defaultdict(list)
        for person in usable.values():
            if person.from_intakeq:
                intakeq_by_dob[person.date_of_birth].append(person)
        self.link_scores: dict[str, Decimal] = {}
        self.proposals: dict[str, list[tuple[_Person, Decimal, str]]] = defaultdict(list)
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
            scored.sort(key=lambda item: (-item[0], item[1].rank))
            best_score, best = scored[0]
            confident = [s for s, _ in scored if s >= self.auto_link_min]
            distinct_people = {groups.find(c.key) for s, c in scored if s >= self.auto_link_min}
            if confident and len(distinct_people) == 1:
                groups.union(best.key, person.key)
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
                # Staff decide these in the IntakeQ link review queue (once the person exists).
                for score, candidate in scored:
                    self.proposals[person.pk].append((candidate, _score(score), reason))

        members = defaultdict(list)
        joined = groups.parent
        for person in usable.values():
            key = person.key
            members[groups.find(key) if key in joined else key].append(person)
        # An IntakeQ row no CM row matched is someone else's patient: not ours to migrate.
        self.groups = [g for g in members.values() if any(p.referenced for p in g)]
        self.group_of = {p.pk: index for index, group in enumerate(self.groups) for p in group}
        for group in self.groups:
            group.sort(key=lambda p: (not p.from_intakeq, p.rank))

    def _load_enrollment_index(self):
        """One light pass over cm_patients (no free text, no timestamps) that every plan uses.

        Ordered by enrollment_date, created_at, id; ``freshness`` ranks rows by updated_at.
        """
        self.cm_rows = [
            _CmRow(*row)
            for row in self._fetch(
                "SELECT id::text, patient_id::text, cpss_provider_id::text, program_name, status, "
                "smartphone_access, enrollment_source, "
                "row_number() OVER (ORDER BY updated_at, created_at, id) "
                "FROM cm_patients ORDER BY enrollment_date, created_at, id"
            )
        ]
        self.status_of_group: dict[int, str] = {}
        self.freshest_of_group: dict[int, _CmRow] = {}
        for row in self.cm_rows:
            row.status_new = self.status_map.get(_code(row.status))
            group = self.group_of.get(row.patient_id)
            if group is None:
                continue
            if row.status_new:
                # Later enrollment_date wins: the person's current participation status.
                self.status_of_group[group] = row.status_new
            freshest = self.freshest_of_group.get(group)
            if freshest is None or row.freshness > freshest.freshness:
                self.freshest_of_group[group] = row

    def _migrate_people(self):
        table = "patients"
        counts = self.result.counts[table]
        existing_canonical = {
            (first, last, dob): str(pk)
            for pk, first, last, dob in PatientCanonical.objects.values_list(
                "pk", "first_name_normalized", "last_name_normalized", "date_of_birth"
            )
        }
        cm_by_canonical = _text_ids(PatientCM.objects.values_list("canonical_patient_id", "pk"))
        links = PatientIntakeQLink.objects.values_list("canonical_patient_id", "intakeq_patient_id")
        linked_canonicals = {str(c) for c, _ in links if c}
        linked_intakeq = {str(i) for _, i in links if i}
        proposed = {
            (str(c), str(i))
            for c, i in LinkProposal.objects.values_list(
                "canonical_patient_id", "intakeq_patient_id"
            )
        }
        self._load_enrollment_index()

        self.canonical_of_group: dict[int, str] = {}
        self.cm_patient_of_group: dict[int, str] = {}
        total = len(self.groups)
        for start in range(0, total, self.batch_size):
            chunk = range(start, min(start + self.batch_size, total))
            canonical_rows, cm_plan, link_rows, proposal_rows, entries = [], [], [], [], []
            for index in chunk:
                group = self.groups[index]
                referenced = [p for p in group if p.referenced]
                counts.read += len(referenced)
                patient_map = self.patient_map
                mapped = (
                    {patient_map[p.pk] for p in referenced if p.pk in patient_map}
                    if patient_map
                    else set()
                )
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
                    canonical_id = _new_id()
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
                    cm_id = _new_id()
                    cm_by_canonical[canonical_id] = cm_id
                    cm_plan.append(self._cm_plan_row(cm_id, canonical_id, index, group))
                elif not mapped:
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
                        link_rows.append((_new_id(), canonical_id, chosen.pk, score))
                        linked_canonicals.add(canonical_id)
                        linked_intakeq.add(chosen.pk)
                    for extra in intakeq_rows:
                        if extra is not chosen and extra.pk not in linked_intakeq:
                            self._report(
                                table, extra.pk, "second_intakeq_row_not_linked", note=True
                            )
                if canonical_id not in linked_canonicals:
                    for person in referenced:
                        for candidate, score, reason in self.proposals.get(person.pk, ()):
                            pair = (canonical_id, candidate.pk)
                            if pair not in proposed and candidate.pk not in linked_intakeq:
                                proposed.add(pair)
                                proposal_rows.append((*pair, score, f"{{{reason}}}"))
            with transaction.atomic():
                self._copy(
                    PatientCanonical,
                    ["id", "first_name", "last_name", "date_of_birth"],
                    canonical_rows,
                )
                self._insert_cm_patients(cm_plan)
                self._copy(
                    PatientIntakeQLink,
                    ["id", "canonical_patient_id", "intakeq_patient_id", "confidence_score"],
                    link_rows,
                )
                # Links are PHI-bearing decisions: each one made here is in the link history.
                self._copy(
                    LinkHistory,
                    [
                        "canonical_patient_id",
                        "intakeq_patient_id",
                        "action",
                        "confidence_score",
                        "automatic",
                        "reason",
                    ],
                    [
                        (c, i, LinkHistory.Action.LINKED.value, score, True, HISTORY_REASON)
                        for _, c, i, score in link_rows
                    ],
                )
                self._copy(
                    LinkProposal,
                    ["canonical_patient_id", "intakeq_patient_id", "score", "reasons"],
                    proposal_rows,
                )
                self._write_map(table, PatientCanonical._meta.db_table, entries)
            self.progress(table, chunk.stop, total)
            self.after_batch(table, start // self.batch_size + 1)

    def _cm_plan_row(self, cm_id, canonical_id, index, group) -> tuple:
        """The patients_cm row, as ids and mapped codes; SQL copies the rest from the legacy row.

        CM columns come from the person's most recently updated cm_patients row; contact
        details from the row the old CM app typed, else from the IntakeQ chart (seed scenario 2).
        """
        source = self.freshest_of_group[index]
        enrollment_source = self._mapped_code(source, "enrollment_source", ENROLLMENT_SOURCE_MAP)
        smartphone = self._mapped_code(source, "smartphone_access", SMARTPHONE_MAP)
        contact = next((p for p in group if p.referenced and not p.from_intakeq), group[0])
        return (
            cm_id,
            canonical_id,
            source.pk,
            contact.pk,
            enrollment_source,
            smartphone,
            self.status_of_group.get(index),
        )

    def _mapped_code(self, source, field: str, table: dict) -> str | None:
        """The mapped value of a free-text legacy field; a value the table lacks is noted."""
        raw = getattr(source, field)
        mapped = table.get(_code(raw))
        if _blank_to_none(raw) and mapped is None:
            self._report("cm_patients", source.pk, f"unmapped_{field}", value=raw, note=True)
        return mapped

    def _insert_cm_patients(self, plan: list[tuple]):
        if not plan:
            return
        self._plan_table(
            "migrate_cm_plan_cm",
            "cm_id uuid, canonical_id uuid, source_row uuid, contact_patient uuid, "
            "enrollment_source text, smartphone_access text, status text",
            plan,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO patients_cm (id, canonical_patient_id, phone, email, "
                "insurance_primary, medicaid_id, enrollment_source, consent_date, "
                "smartphone_access, emergency_contact_name, emergency_contact_phone, "
                "address_street, address_city, address_state, address_zip, preferred_language, "
                "status) "
                "SELECT plan.cm_id, plan.canonical_id, "
                "CASE WHEN btrim(pt.phone) = '' THEN NULL ELSE pt.phone END, "
                "CASE WHEN btrim(pt.email) = '' THEN NULL ELSE pt.email END, "
                "c.insurance_primary, c.medicaid_id, "
                "plan.enrollment_source, c.consent_date, plan.smartphone_access, "
                "c.emergency_contact_name, c.emergency_contact_phone, c.address_street, "
                "c.address_city, c.address_state, c.address_zip, c.preferred_language, "
                "plan.status FROM migrate_cm_plan_cm plan "
                "JOIN cm_patients c ON c.id = plan.source_row "
                "JOIN patients pt ON pt.id = plan.contact_patient"
            )
        self.result.created[PatientCM._meta.db_table] += len(plan)

    def _plan_table(self, name: str, columns: str, rows: list[tuple]):
        """A session temp table holding one batch's plan, for an INSERT ... SELECT to join."""
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns})")
            cursor.execute(f"TRUNCATE {name}")
        self._copy_into(name, [c.split()[0] for c in columns.split(", ")], rows)

    # phase 3: enrollments ----------------------------------------------------------------------

    def _migrate_enrollments(self):
        table = "cm_patients"
        counts = self.result.counts[table]
        mapped = self._mapped(table)
        programs = self._programs()
        keepers = self._enrollment_keepers(programs, mapped)
        existing = {
            (str(c), str(p)): str(pk)
            for pk, c, p in Enrollment.objects.values_list(
                "pk", "canonical_patient_id", "cm_program_id"
            )
        }
        rows = sorted(self.cm_rows, key=lambda row: row.pk)  # primary-key batches
        total = len(rows)
        for start in range(0, total, self.batch_size):
            batch = rows[start : start + self.batch_size]
            plan, entries = [], []
            for row in batch:
                outcome = self._enrollment_plan(row, mapped, programs, keepers, existing)
                if outcome is None:
                    continue
                kind, payload = outcome
                if kind == "new":
                    plan.append(payload)
                    entries.append((row.pk, payload[1], LegacyIdMap.Outcome.MIGRATED))
                else:
                    entries.append((row.pk, payload, LegacyIdMap.Outcome.MERGED))
            counts.read += len(batch)
            with transaction.atomic():
                self._insert_enrollments(plan)
                self._write_map(table, Enrollment._meta.db_table, entries)
            self.progress(table, counts.read, total)
            self.after_batch(table, start // self.batch_size + 1)

    def _insert_enrollments(self, plan: list[tuple]):
        if not plan:
            return
        self._plan_table(
            "migrate_cm_plan_enrollment",
            "legacy_id uuid, new_id uuid, canonical_id uuid, cm_patient_id uuid, "
            "program_id uuid, cpss_id uuid, status text",
            plan,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO cm_enrollments (id, canonical_patient_id, cm_patient_id, "
                "cm_program_id, cpss_provider_id, total_points, current_streak, enrollment_date, "
                "status, medicaid_verification, pod_assignment, notes, created_at, updated_at) "
                "SELECT plan.new_id, plan.canonical_id, plan.cm_patient_id, plan.program_id, "
                "plan.cpss_id, c.total_points, c.current_streak, c.enrollment_date, plan.status, "
                "c.medicaid_verification, c.pod_assignment, c.notes, c.created_at, c.updated_at "
                "FROM migrate_cm_plan_enrollment plan JOIN cm_patients c ON c.id = plan.legacy_id"
            )
            # Every enrollment starts its status history with one row, as enrollment_create does.
            cursor.execute(
                "INSERT INTO cm_enrollment_status_changes (enrollment_id, from_status, to_status, "
                "reason) SELECT new_id, NULL, status, %s FROM migrate_cm_plan_enrollment",
                [HISTORY_REASON],
            )
        self.result.created[Enrollment._meta.db_table] += len(plan)
        self.result.created[EnrollmentStatusChange._meta.db_table] += len(plan)

    def _enrollment_plan(self, row, mapped, programs, keepers, existing):
        table = "cm_patients"
        if row.pk in mapped:
            self.result.counts[table].already += 1
            return None
        group = self.group_of.get(row.patient_id)
        if group is None or group not in self.canonical_of_group:
            reason = self.unusable_people.get(row.patient_id)
            if reason is None and row.patient_id not in self.people:
                reason = "dangling_patient_id"
            self._report(
                table,
                row.pk,
                f"patient_not_migrated:{reason or 'conflict'}",
                related_id=row.patient_id,
            )
            return None
        cpss = None
        if row.cpss_id is not None:
            cpss = self.provider_map.get(row.cpss_id)
            if cpss is None:
                self._report(table, row.pk, "cpss_provider_not_migrated", related_id=row.cpss_id)
                return None
        if row.status_new is None:
            code = _code(row.status)
            reason = "ambiguous_status" if code in AMBIGUOUS_STATUSES else "unknown_status"
            self._report(table, row.pk, reason, value=row.status)
            return None
        program_id = programs[_program_key(row.program_name)]
        keeper = keepers[(group, program_id)]
        if keeper != row.pk:
            self._report(
                table, row.pk, "duplicate_enrollment_same_person_program", related_id=keeper
            )
            return None
        canonical_id = self.canonical_of_group[group]
        if (canonical_id, program_id) in existing:
            merged_into = existing[(canonical_id, program_id)]
            self._report(
                table,
                row.pk,
                "enrollment_already_existed_fields_not_applied",
                related_id=merged_into,
                note=True,
            )
            return "merged", merged_into
        new_id = _new_id()
        existing[(canonical_id, program_id)] = new_id
        return "new", (
            row.pk,
            new_id,
            canonical_id,
            self.cm_patient_of_group[group],
            program_id,
            cpss,
            row.status_new,
        )

    def _programs(self) -> dict[str, str]:
        """program key -> program id, creating the programs legacy rows name (and the default)."""
        names = {row.program_name for row in self.cm_rows}
        programs = {
            _program_key(name): str(pk)
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
        programs.update({key: str(program.pk) for key, program in zip(wanted, new, strict=True)})
        return programs

    def _enrollment_keepers(self, programs, mapped) -> dict[tuple[int, str], str]:
        """(person, program) -> the one legacy enrollment that becomes cm_enrollments' row.

        An enrollment migrated by an earlier run stays the keeper; otherwise the earliest
        enrollment_date (then created_at, id). The others are reported, not merged, because
        their points and streaks cannot be added up without a person deciding.
        """
        keepers = {}
        for row in self.cm_rows:
            group = self.group_of.get(row.patient_id)
            if (
                group is None
                or row.status_new is None
                or (row.cpss_id is not None and row.cpss_id not in self.provider_map)
            ):
                continue
            key = (group, programs[_program_key(row.program_name)])
            if key not in keepers or row.pk in mapped:
                keepers[key] = row.pk
        return keepers


@dataclass(slots=True)
class _CmRow:
    pk: str
    patient_id: str
    cpss_id: str | None
    program_name: str | None
    status: str
    smartphone_access: str | None
    enrollment_source: str | None
    freshness: int
    status_new: str | None = None


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value) -> str:
    """A value in COPY's text format (ids, names, codes, numbers and dates are all we send)."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def _new_id() -> str:
    """A random (version 4) UUID as text: ids travel as text here, which is several times
    cheaper than uuid.UUID objects at 100k rows (hashing, comparing, COPY)."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def _text_ids(pairs) -> dict[str, str]:
    return {str(a): str(b) for a, b in pairs}


def _program_key(name: str | None) -> str:
    # Blank and NULL names are the old app's single unnamed program, kept under one clear name.
    return " ".join((name or "").split()).casefold() or DEFAULT_PROGRAM_NAME.casefold()


def _score(value: float) -> Decimal:
    return Decimal(str(round(min(max(value, 0.0), 1.0), 2)))


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
    batch_size: int = 10000,
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
