import uuid
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Q

from audit.models import (
    EnrollmentEvent,
    PatientCanonicalEvent,
    PatientCMEvent,
    PatientIntakeQLinkEvent,
)


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
    # The reason a service gave (pghistory.context(reason=...): corrections, merges, unmerges).
    reason: str = ""


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


def patient_change_history(*, canonical_patient_id: uuid.UUID) -> list[ChangeRecord]:
    """Every recorded change to one person's identity, CM record, enrollments and IntakeQ link,
    newest first, including changes made by bulk operations and raw SQL."""
    cm_ids = set(
        PatientCMEvent.objects.filter(canonical_patient_id=canonical_patient_id).values_list(
            "pgh_obj_id", flat=True
        )
    )
    sources = [
        (PatientCanonicalEvent, "patients_canonical", Q(pgh_obj_id=canonical_patient_id)),
        (PatientCMEvent, "patients_cm", Q(pgh_obj_id__in=cm_ids)),
        (
            EnrollmentEvent,
            "cm_enrollments",
            Q(canonical_patient_id=canonical_patient_id) | Q(cm_patient_id__in=cm_ids),
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
    records = []
    for table, event, diff in collected:
        who, via = _who(event.pgh_context, usernames)
        records.append(
            ChangeRecord(
                when=event.pgh_created_at,
                table=table,
                action=event.pgh_label,
                object_id=event.pgh_obj_id,
                who=who,
                via=via,
                changes=diff,
                reason=(event.pgh_context or {}).get("reason") or "",
            )
        )
    records.sort(key=lambda r: r.when, reverse=True)
    return records
