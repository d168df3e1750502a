import uuid
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Q

from audit.models import (
    CanonicalMergeEvent,
    DrugTestEvent,
    EnrollmentEvent,
    LedgerEntryEvent,
    PatientCanonicalEvent,
    PatientCMEvent,
    PatientIntakeQLinkEvent,
    SupervisorRequestEvent,
)
from cm_program.models import Enrollment, SupervisorRequest, sees_every_cm_patient
from identity.models import PatientCanonical
from incentives.models import EntryKind, TestResult


@dataclass
class ChangeRecord:
    """One insert, update or delete of one row, with what changed (field: (before, after))."""

    when: object
    table: str
    action: str
    object_id: object
    who: str
    via: str
    changes: dict = field(default_factory=dict)
    # The reason a service gave (pghistory.context(reason=...): corrections, merges, unmerges),
    # or the one the row itself holds (a correction's, a void's, a request's, a decision's).
    reason: str = ""
    # What happened, in words, for the rows whose field names say little to a reader.
    what: str = ""


def _snapshot_fields(event_model) -> list[str]:
    return [
        f.attname
        for f in event_model._meta.concrete_fields
        if not f.name.startswith("pgh_") and f.name != "updated_at"
    ]


def _who(metadata: dict | None, usernames: dict) -> tuple[str, str]:
    """From the context copied into the event row itself (pgh_context), which is as
    append-only as the row: nothing shared can rewrite it."""
    if metadata is None:
        return "(not recorded)", "database"
    if metadata.get("user") is not None:
        who = usernames.get(str(metadata["user"]), f"user #{metadata['user']}")
    elif metadata.get("os_user"):
        who = f"{metadata['os_user']} (command line)"
    else:
        who = "(not recorded)"
    via = metadata.get("url") or (
        f"manage.py {metadata['command']}" if metadata.get("command") else "database"
    )
    return who, via


def _changes(event_model, events) -> list[tuple]:
    """(event, {field: (before, after)}) per event; each compared to the previous of its row."""
    names = _snapshot_fields(event_model)
    previous: dict = {}
    out = []
    for event in events:
        before = previous.get(event.pgh_obj_id)
        after = {name: getattr(event, name) for name in names}
        if event.pgh_label == "delete":
            diff = {name: (value, None) for name, value in after.items() if value is not None}
        elif before is None:
            diff = {name: (None, value) for name, value in after.items() if value is not None}
        else:
            diff = {n: (before[n], after[n]) for n in names if before[n] != after[n]}
        previous[event.pgh_obj_id] = after
        out.append((event, diff))
    return out


def _label(choices, value) -> str:
    return dict(choices.choices).get(value, value or "")


def _person(names: dict, pk) -> str:
    # A person the reader may not see is named no more precisely than that.
    return names.get(pk, "another person")


def _what_and_why(table: str, event, diff: dict, names: dict) -> tuple[str, str]:
    """What the change was and the reason the row itself gives, for the rows a field diff
    explains badly (drug tests, the ledger, supervisor requests, merges)."""
    if table == "cm_drug_tests":
        result = _label(TestResult, event.result)
        if event.supersedes_id:
            return f"Drug test corrected: {result} (replaces an earlier result)", event.reason
        return f"Drug test recorded: {result}", event.reason
    if table == "cm_incentive_ledger":
        what = f"Incentive ledger: {_label(EntryKind, event.kind)} {event.points:+d} points"
        if event.method:
            what += f" ({event.method.replace('_', ' ')})"
        return what, event.reason
    if table == "cm_supervisor_requests":
        if event.pgh_label == "insert":
            kind = _label(SupervisorRequest.Kind, event.kind)
            return f"Request for a supervisor: {kind}", event.reason
        if "status" in diff:
            status = _label(SupervisorRequest.Status, event.status)
            return f"Supervisor decision: {status}", event.decision_note
        return "Request for a supervisor changed", ""
    if table == "patients_canonical_merge":
        merged, keep = _person(names, event.merged_id), _person(names, event.keep_id)
        if event.pgh_label == "insert":
            return f"Merged: {merged} into {keep}", event.reason
        if "unmerged_at" in diff and event.unmerged_at is not None:
            return f"Unmerged: {merged} from {keep}", event.unmerge_reason
        return "Merge record changed", ""
    return "", ""


def patient_change_history(*, canonical_patient_id: uuid.UUID, user=None) -> list[ChangeRecord]:
    """Every recorded change to one person's identity, CM record, enrollments (with their drug
    tests, incentive ledger and supervisor requests), IntakeQ link and merges, newest first,
    including changes made by bulk operations and raw SQL.

    With ``user``, enrollment rows are those of the enrollments the user may see
    (``Enrollment.objects.visible_to``): the same person may be enrolled on another caseload.
    """
    cm_ids = set(
        PatientCMEvent.objects.filter(canonical_patient_id=canonical_patient_id).values_list(
            "pgh_obj_id", flat=True
        )
    )
    enrollment_ids = set(
        EnrollmentEvent.objects.filter(
            Q(canonical_patient_id=canonical_patient_id) | Q(cm_patient_id__in=cm_ids)
        ).values_list("pgh_obj_id", flat=True)
    )
    if user is not None:
        enrollment_ids = set(
            Enrollment.objects.visible_to(user)
            .filter(pk__in=enrollment_ids)
            .values_list("pk", flat=True)
        )
    # A request naming the person only as a possible match belongs to no enrollment yet: it is
    # for those who see every CM patient.
    requests = Q(enrollment_id__in=enrollment_ids)
    if user is None or sees_every_cm_patient(user):
        requests |= Q(possible_match_id=canonical_patient_id)
    sources = [
        (PatientCanonicalEvent, "patients_canonical", Q(pgh_obj_id=canonical_patient_id)),
        (PatientCMEvent, "patients_cm", Q(pgh_obj_id__in=cm_ids)),
        (EnrollmentEvent, "cm_enrollments", Q(pgh_obj_id__in=enrollment_ids)),
        (DrugTestEvent, "cm_drug_tests", Q(enrollment_id__in=enrollment_ids)),
        (LedgerEntryEvent, "cm_incentive_ledger", Q(enrollment_id__in=enrollment_ids)),
        (SupervisorRequestEvent, "cm_supervisor_requests", requests),
        (
            CanonicalMergeEvent,
            "patients_canonical_merge",
            Q(keep_id=canonical_patient_id) | Q(merged_id=canonical_patient_id),
        ),
        (
            PatientIntakeQLinkEvent,
            "patients_intakeq_link",
            Q(canonical_patient_id=canonical_patient_id),
        ),
    ]
    collected = []
    for model, table, condition in sources:
        obj_ids = set(model.objects.filter(condition).values_list("pgh_obj_id", flat=True))
        events = model.objects.filter(pgh_obj_id__in=obj_ids).order_by("pgh_id")
        collected.extend((table, event, diff) for event, diff in _changes(model, events))

    user_ids = {
        str(event.pgh_context.get("user"))
        for _, event, _ in collected
        if event.pgh_context is not None and event.pgh_context.get("user") is not None
    }
    usernames = {
        str(pk): name
        for pk, name in get_user_model()
        .objects.filter(pk__in=[u for u in user_ids if u.isdigit()])
        .values_list("pk", "username")
    }
    merged_people = {
        person_id
        for table, event, _ in collected
        if table == "patients_canonical_merge"
        for person_id in (event.keep_id, event.merged_id)
    }
    people = PatientCanonical.objects.filter(pk__in=merged_people)
    if user is not None:
        people = people.visible_to(user)
    names = {
        pk: f"{first} {last}"
        for pk, first, last in people.values_list("pk", "first_name", "last_name")
    }
    # One transaction's events share their time; within a table, pgh_id keeps their order.
    collected.sort(key=lambda item: (item[1].pgh_created_at, item[1].pgh_id), reverse=True)
    records = []
    for table, event, diff in collected:
        who, via = _who(event.pgh_context, usernames)
        what, row_reason = _what_and_why(table, event, diff, names)
        records.append(
            ChangeRecord(
                when=event.pgh_created_at,
                table=table,
                action=event.pgh_label,
                object_id=event.pgh_obj_id,
                who=who,
                via=via,
                changes=diff,
                reason=row_reason or (event.pgh_context or {}).get("reason") or "",
                what=what,
            )
        )
    return records
