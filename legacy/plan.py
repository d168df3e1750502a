"""Read and plan: the legacy people and enrollments, and who is one person, before any write.

Legacy rows are grouped into people with a union-find. Edges: the same normalized name and date
of birth; and a CM-app row (blank intakeq_client_id, as intakeq_link.client_ids defines it)
confidently matched to an IntakeQ row of the same date of birth (blocking on the date keeps this
linear). "Confidently" is the project's one definition of the same person: identity.matching's
scorer at or above the auto-link score, alone there; pairs between the review and auto-link
scores are queued for review, never merged. Each group becomes one canonical patient.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from identity.matching import PersonRecord, auto_link_min_score, review_min_score, score_people
from identity.normalization import normalize_name
from identity.validators import EARLIEST_DATE_OF_BIRTH, person_name_problem
from intakeq_link.client_ids import is_intakeq_client_id
from legacy.bulk import fetch
from legacy.results import PhaseLog
from legacy.values import code

# The pages' limit (cm_program.forms: max_length=100). Much longer names do not fit the unique
# index on names: COPY would fail and stop every run at that batch.
MAX_NAME_LENGTH = 100
# A program's or a pod's name longer than this is reported with its enrollment: a few thousand
# characters overflow their indexes (contingency_management_name_key, cm_enrollments_pod_idx)
# and would stop every run. Far above the pages' limits, so a real free-text pod still fits.
MAX_LABEL_LENGTH = 200

# The enrolled rows, and the IntakeQ rows born on a day a CM-app row was: the only ones a CM-app
# row could be matched to.
_PEOPLE_SQL = (
    "SELECT p.id::text, p.intakeq_client_id, p.first_name, p.last_name, p.date_of_birth, "
    "r.referenced FROM patients p JOIN ("
    "  SELECT DISTINCT patient_id AS id, true AS referenced FROM cm_patients"
    "  UNION ALL"
    "  SELECT q.id, false FROM patients q"
    "  WHERE cm_is_intakeq_client_id(q.intakeq_client_id)"
    "  AND NOT EXISTS (SELECT 1 FROM cm_patients c WHERE c.patient_id = q.id)"
    "  AND q.date_of_birth IN (SELECT x.date_of_birth FROM patients x"
    "    JOIN cm_patients c ON c.patient_id = x.id"
    "    WHERE NOT cm_is_intakeq_client_id(x.intakeq_client_id))"
    ") r ON r.id = p.id ORDER BY p.created_at, p.id"
)
# The patients rows no enrollment points to: not CM data. The CM-app ones are few and listed in
# the report (a person the old app typed in and never enrolled); the IntakeQ ones are only counted.
_UNENROLLED_CM_APP_SQL = (
    "SELECT p.id::text FROM patients p WHERE NOT cm_is_intakeq_client_id(p.intakeq_client_id) "
    "AND NOT EXISTS (SELECT 1 FROM cm_patients c WHERE c.patient_id = p.id) "
    "ORDER BY p.created_at, p.id"
)
_UNENROLLED_INTAKEQ_SQL = (
    "SELECT count(*) FROM patients p WHERE cm_is_intakeq_client_id(p.intakeq_client_id) "
    "AND NOT EXISTS (SELECT 1 FROM cm_patients c WHERE c.patient_id = p.id)"
)
# One light pass over cm_patients (no free text, no timestamps) that every plan uses, ordered by
# enrollment_date, created_at, id; the row number ranks rows by updated_at ("freshness").
_ENROLLMENTS_SQL = (
    "SELECT id::text, patient_id::text, cpss_provider_id::text, program_name, status, "
    "smartphone_access, enrollment_source, "
    "row_number() OVER (ORDER BY updated_at, created_at, id), length(pod_assignment) "
    "FROM cm_patients ORDER BY enrollment_date, created_at, id"
)


@dataclass
class Person:
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
        self.from_intakeq = is_intakeq_client_id(self.intakeq_client_id)
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


@dataclass(kw_only=True)
class PeoplePlan(PhaseLog):
    """Who is one person. Reports the referenced rows that cannot become a person."""

    table: str = "patients"
    people: dict[str, Person] = field(default_factory=dict)
    unusable: dict[str, str] = field(default_factory=dict)  # legacy id -> reason
    groups: list[list[Person]] = field(default_factory=list)  # IntakeQ rows first, then rank
    group_of: dict[str, int] = field(default_factory=dict)  # legacy id -> index in groups
    link_scores: dict[str, Decimal] = field(default_factory=dict)  # IntakeQ legacy id -> score
    # CM-app legacy id -> the IntakeQ rows staff should look at: (row, score, reason).
    proposals: dict[str, list[tuple[Person, Decimal, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def plan_people() -> PeoplePlan:
    rows = fetch(_PEOPLE_SQL)
    plan = PeoplePlan(people={row[0]: Person(*row, rank=rank) for rank, row in enumerate(rows)})
    usable = _usable_people(plan)
    # Rows with the same key are one person by definition; the union-find only joins keys that
    # a confident IntakeQ match ties together.
    groups = _UnionFind()
    _match_to_intakeq(plan, usable, groups)
    members = defaultdict(list)
    for person in usable:
        key = person.key
        members[groups.find(key) if key in groups.parent else key].append(person)
    # An IntakeQ row no CM row matched is someone else's patient: not ours to migrate.
    plan.groups = [g for g in members.values() if any(p.referenced for p in g)]
    plan.group_of = {p.pk: index for index, group in enumerate(plan.groups) for p in group}
    for group in plan.groups:
        group.sort(key=lambda p: (not p.from_intakeq, p.rank))
    # Every row of the table is accounted for, not only the enrolled ones.
    plan.skipped("no_enrollment", [row[0] for row in fetch(_UNENROLLED_CM_APP_SQL)])
    plan.skipped("intakeq_patient_not_enrolled", count=fetch(_UNENROLLED_INTAKEQ_SQL)[0][0])
    return plan


def _usable_people(plan: PeoplePlan) -> list[Person]:
    today = datetime.date.today()  # noqa: DTZ011 - a date of birth has no time zone
    usable = []
    for person in plan.people.values():
        reason = None
        if not person.key[0] or not person.key[1]:
            reason = "blank_name"
        elif problem := (
            person_name_problem(person.first_name) or person_name_problem(person.last_name)
        ):
            reason = f"unusable_name:{problem}"  # reported, as the new pages would refuse it
        elif max(len(person.first_name.strip()), len(person.last_name.strip())) > MAX_NAME_LENGTH:
            reason = "unusable_name:too_long"
        elif person.date_of_birth is None:
            reason = "no_date_of_birth"
        elif not (EARLIEST_DATE_OF_BIRTH <= person.date_of_birth <= today):
            reason = "implausible_date_of_birth"
        if reason is None:
            usable.append(person)
        elif person.referenced:
            plan.counts.read += 1
            plan.unusable[person.pk] = reason
            plan.reported(person.pk, reason)
    return usable


def _match_to_intakeq(plan: PeoplePlan, usable: list[Person], groups: _UnionFind) -> None:
    """Join each enrolled CM-app row to its one confident IntakeQ match; note the rest."""
    review_min, auto_min = review_min_score(), auto_link_min_score()
    intakeq_by_dob = defaultdict(list)
    for person in usable:
        if person.from_intakeq:
            intakeq_by_dob[person.date_of_birth].append(person)
    for person in usable:
        if person.from_intakeq or not person.referenced:
            continue
        scored = _scored_candidates(person, intakeq_by_dob, review_min)
        if not scored:
            continue
        best_score, best = scored[0]
        confident = {groups.find(c.key) for s, c in scored if s >= auto_min}
        if len(confident) == 1:
            groups.union(best.key, person.key)
            plan.link_scores[best.pk] = max(plan.link_scores.get(best.pk, Decimal(0)), best_score)
            continue
        reason = "ambiguous_intakeq_match" if confident else "uncertain_intakeq_match"
        plan.note(person.pk, reason, related_id=best.pk, value=str(best_score))
        # Staff decide these in the IntakeQ link review queue (once the person exists).
        for score, candidate in scored:
            plan.proposals[person.pk].append((candidate, score, reason))


def _scored_candidates(person: Person, intakeq_by_dob, review_min: Decimal) -> list:
    """(score, IntakeQ row) at or above the review score, best first, then the earlier row.

    Scored by identity.matching (score_people), as every other match in the project is.
    """
    first, last, dob = person.key
    same_day = {candidate.pk: candidate for candidate in intakeq_by_dob.get(dob, ())}
    if not same_day:
        return []
    records = [
        PersonRecord("intakeq", c.pk, c.first_name, c.last_name, dob, c.key[0], c.key[1])
        for c in same_day.values()
    ]
    scored = [
        (candidate.score, same_day[candidate.pk])
        for candidate in score_people(
            first_name=person.first_name,
            last_name=person.last_name,
            date_of_birth=dob,
            records=records,
        )
        if candidate.score >= review_min
    ]
    scored.sort(key=lambda item: (-item[0], item[1].rank))
    return scored


@dataclass(slots=True)
class CmRow:
    pk: str
    patient_id: str
    cpss_id: str | None
    program_name: str | None
    status: str
    smartphone_access: str | None
    enrollment_source: str | None
    freshness: int
    pod_length: int | None = None
    status_new: str | None = None


@dataclass
class EnrollmentIndex:
    """Every cm_patients row, light, with its mapped status; per person (group index) the
    current status and the most recently updated row."""

    rows: list[CmRow]
    status_of_group: dict[int, str] = field(default_factory=dict)
    freshest_of_group: dict[int, CmRow] = field(default_factory=dict)
    rows_of_group: dict[int, list[CmRow]] = field(default_factory=lambda: defaultdict(list))


def read_enrollments(plan: PeoplePlan, status_map: dict[str, str]) -> EnrollmentIndex:
    index = EnrollmentIndex(rows=[CmRow(*row) for row in fetch(_ENROLLMENTS_SQL)])
    for row in index.rows:
        row.status_new = status_map.get(code(row.status))
        group = plan.group_of.get(row.patient_id)
        if group is None:
            continue
        if row.status_new:
            # Later enrollment_date wins: the person's current participation status.
            index.status_of_group[group] = row.status_new
        index.rows_of_group[group].append(row)
        freshest = index.freshest_of_group.get(group)
        if freshest is None or row.freshness > freshest.freshness:
            index.freshest_of_group[group] = row
    return index
