"""People and links: each planned person becomes (or merges into) a canonical patient, with their
CM record, their IntakeQ link and the link proposals staff should decide, one transaction per
batch together with the batch's legacy_id_map rows."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from cm_program.models import PatientCM
from identity.models import PatientCanonical
from intakeq_link.models import LinkHistory, LinkProposal, PatientIntakeQLink
from legacy.bulk import already_mapped, copy_new_rows, new_id, text_ids, write_id_map
from legacy.cm_records import (
    cm_record_row,
    insert_cm_records,
    note_values_not_carried,
    others_rows,
)
from legacy.models import LegacyIdMap
from legacy.plan import EnrollmentIndex, PeoplePlan, Person
from legacy.results import Batching, PhaseLog
from legacy.values import HISTORY_REASON

_HISTORY_COLUMNS = [
    "canonical_patient_id",
    "intakeq_patient_id",
    "action",
    "confidence_score",
    "automatic",
    "reason",
]


@dataclass(kw_only=True)
class PeopleDone(PhaseLog):
    table: str = "patients"
    canonical_of_group: dict[int, str] = field(default_factory=dict)
    cm_patient_of_group: dict[int, str] = field(default_factory=dict)


@dataclass
class _Known:
    """What our tables hold (before this run, and as planned so far), so nothing is doubled."""

    patient_map: dict[str, str]  # legacy patients row -> canonical id, from earlier runs
    canonical: dict[tuple, str]  # (normalized first, last, date of birth) -> canonical id
    cm_by_canonical: dict[str, str]
    linked_canonicals: set[str]
    linked_intakeq: set[str]
    proposed: set[tuple[str, str]]
    merged_into: dict[str, str]  # canonical id -> the person it was merged into

    @classmethod
    def read(cls) -> "_Known":
        identities = PatientCanonical.objects.values_list(
            "pk", "first_name_normalized", "last_name_normalized", "date_of_birth", "merged_into"
        )
        links = PatientIntakeQLink.objects.values_list("canonical_patient_id", "intakeq_patient_id")
        proposals = LinkProposal.objects.values_list("canonical_patient_id", "intakeq_patient_id")
        return cls(
            patient_map=already_mapped("patients"),
            canonical={(first, last, dob): str(pk) for pk, first, last, dob, _ in identities},
            cm_by_canonical=text_ids(PatientCM.objects.values_list("canonical_patient_id", "pk")),
            linked_canonicals={str(c) for c, _ in links if c},
            linked_intakeq={str(i) for _, i in links if i},
            proposed={(str(c), str(i)) for c, i in proposals},
            merged_into={str(pk): str(into) for pk, *_, into in identities if into},
        )

    def kept(self, canonical_id: str) -> str:
        """Follow merges, as identity's lookups do: rows go to the person who holds them now,
        never to one merged away in the new app."""
        seen = set()
        while canonical_id in self.merged_into and canonical_id not in seen:
            seen.add(canonical_id)
            canonical_id = self.merged_into[canonical_id]
        return canonical_id


@dataclass
class _Batch:
    canonical_rows: list[tuple] = field(default_factory=list)
    cm_plan: list[tuple] = field(default_factory=list)
    cm_others: list[tuple] = field(default_factory=list)  # cm_records.others_rows
    link_rows: list[tuple] = field(default_factory=list)
    proposal_rows: list[tuple] = field(default_factory=list)
    entries: list[tuple] = field(default_factory=list)  # legacy_id_map


def migrate_people(batching: Batching, plan: PeoplePlan, index: EnrollmentIndex) -> PeopleDone:
    return _People(plan, index).run(batching)


class _People:
    def __init__(self, plan: PeoplePlan, index: EnrollmentIndex):
        self.plan, self.index = plan, index
        self.done = PeopleDone()
        self.known = _Known.read()
        self.batch = _Batch()

    def run(self, batching: Batching) -> PeopleDone:
        total = len(self.plan.groups)
        for number, chunk in batching.ranges(total):
            self.batch = _Batch()
            for group_index in chunk:
                self._plan_person(group_index)
            self._write()
            batching.committed(self.done.table, number, chunk.stop, total)
        return self.done

    def _plan_person(self, group_index: int) -> None:
        group = self.plan.groups[group_index]
        referenced = [p for p in group if p.referenced]
        self.done.counts.read += len(referenced)
        patient_map = self.known.patient_map
        mapped = {self.known.kept(patient_map[p.pk]) for p in referenced if p.pk in patient_map}
        if len(mapped) > 1:
            # Earlier runs made two people of what is now one: a person must merge them.
            for person in referenced:
                self.done.reported(person.pk, "conflicting_earlier_migration")
            return
        canonical_id, created = self._canonical_for(group, mapped)
        self.done.canonical_of_group[group_index] = canonical_id
        for position, person in enumerate(referenced):
            if person.pk in patient_map:
                self.done.counts.already += 1
                continue
            first_new = created and position == 0
            outcome = LegacyIdMap.Outcome.MIGRATED if first_new else LegacyIdMap.Outcome.MERGED
            self.batch.entries.append((person.pk, canonical_id, outcome))
        self.done.cm_patient_of_group[group_index] = self._cm_record_for(
            group_index, group, canonical_id
        )
        self._link_intakeq(group, canonical_id)
        if canonical_id not in self.known.linked_canonicals:
            self._propose(referenced, canonical_id)

    def _canonical_for(self, group: list[Person], mapped: set[str]) -> tuple[str, bool]:
        """(canonical id, whether this run creates it): the earlier run's, else a canonical
        patient of the same identity, else a new one named as the group's head row."""
        known = self.known.canonical
        existing = next((self.known.kept(known[p.key]) for p in group if p.key in known), None)
        canonical_id = next(iter(mapped), None) or existing
        if canonical_id is not None:
            return canonical_id, False
        canonical_id = new_id()
        head = group[0]
        self.batch.canonical_rows.append(
            (canonical_id, head.first_name.strip(), head.last_name.strip(), head.date_of_birth)
        )
        known[head.key] = canonical_id
        return canonical_id, True

    def _cm_record_for(self, group_index, group, canonical_id: str) -> str:
        cm_id = self.known.cm_by_canonical.get(canonical_id)
        if cm_id is None:
            cm_id = new_id()
            self.known.cm_by_canonical[canonical_id] = cm_id
            plan_row = cm_record_row(
                self.done,
                self.index,
                cm_id=cm_id,
                canonical_id=canonical_id,
                group_index=group_index,
                group=group,
            )
            self.batch.cm_plan.append(plan_row)
            self.batch.cm_others.extend(others_rows(self.index, group_index, group, plan_row))
        else:
            # The CM record is not rewritten: the values of every row this run brings to the
            # person (a person the new app had, or rows the old app added since the last run)
            # are not applied, and the report says so for each of them.
            reason = "cm_record_already_existed_fields_not_applied"
            new = {p.pk for p in group if p.referenced and p.pk not in self.known.patient_map}
            for pk in new:
                self.done.note(pk, reason, related_id=cm_id)
            for row in self.index.rows_of_group[group_index]:
                if row.patient_id in new:
                    self.done.note(row.pk, reason, table="cm_patients", related_id=cm_id)
        return cm_id

    def _link_intakeq(self, group: list[Person], canonical_id: str) -> None:
        """Link the person to one of their IntakeQ rows, unless either side is linked already."""
        intakeq_rows = [p for p in group if p.from_intakeq]
        known = self.known
        if not intakeq_rows or canonical_id in known.linked_canonicals:
            return
        chosen = next((p for p in intakeq_rows if p.pk not in known.linked_intakeq), None)
        if chosen is None:
            self.done.note(intakeq_rows[0].pk, "intakeq_row_linked_to_another_person")
        else:
            score = (
                Decimal("1.00")
                if chosen.referenced
                else self.plan.link_scores.get(chosen.pk, Decimal("1.00"))
            )
            self.batch.link_rows.append((new_id(), canonical_id, chosen.pk, score))
            known.linked_canonicals.add(canonical_id)
            known.linked_intakeq.add(chosen.pk)
        for extra in intakeq_rows:
            if extra is not chosen and extra.pk not in known.linked_intakeq:
                self.done.note(extra.pk, "second_intakeq_row_not_linked")

    def _propose(self, referenced: list[Person], canonical_id: str) -> None:
        """Queue the uncertain IntakeQ matches of an unlinked person for review, once."""
        known = self.known
        for person in referenced:
            for candidate, score, reason in self.plan.proposals.get(person.pk, ()):
                pair = (canonical_id, candidate.pk)
                if pair not in known.proposed and candidate.pk not in known.linked_intakeq:
                    known.proposed.add(pair)
                    self.batch.proposal_rows.append((*pair, score, f"{{{reason}}}"))

    def _write(self) -> None:
        batch, done = self.batch, self.done
        with transaction.atomic():
            copy_new_rows(
                done,
                PatientCanonical,
                ["id", "first_name", "last_name", "date_of_birth"],
                batch.canonical_rows,
            )
            insert_cm_records(done, batch.cm_plan)
            note_values_not_carried(batch.cm_others)
            copy_new_rows(
                done,
                PatientIntakeQLink,
                ["id", "canonical_patient_id", "intakeq_patient_id", "confidence_score"],
                batch.link_rows,
            )
            # Links are PHI-bearing decisions: each one made here is in the link history.
            history = [
                (c, i, LinkHistory.Action.LINKED.value, score, True, HISTORY_REASON)
                for _, c, i, score in batch.link_rows
            ]
            copy_new_rows(done, LinkHistory, _HISTORY_COLUMNS, history)
            copy_new_rows(
                done,
                LinkProposal,
                ["canonical_patient_id", "intakeq_patient_id", "score", "reasons"],
                batch.proposal_rows,
            )
            write_id_map(done, PatientCanonical._meta.db_table, batch.entries)
