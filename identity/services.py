"""Writes on canonical identity: find-or-create, correct, merge and unmerge, duplicate proposals.

Merge and unmerge move other apps' rows through the movers those apps register
(identity.merging), so identity imports no other app. Both, and corrections, run inside a
pghistory context carrying the reason, so the audit trail says why as well as who.
"""

import datetime
from collections.abc import Iterable, Mapping

import pghistory
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from identity.matching import CANONICAL, Candidate, review_min_score
from identity.merging import KEEP, MERGE, merge_movers
from identity.models import CanonicalMerge, DuplicateProposal, PatientCanonical
from identity.selectors import canonical_patients_with_identity
from identity.validators import clean_date_of_birth, clean_person_name

MERGE_PERMISSION = "identity.add_canonicalmerge"
UNMERGE_PERMISSION = "identity.change_canonicalmerge"
CORRECT_PERMISSION = "identity.change_patientcanonical"
REVIEW_PERMISSION = "identity.change_duplicateproposal"

# One statement for the common case: the person is there (found), or is not and is inserted.
# The INSERT runs only when nothing was found; ON CONFLICT covers a concurrent insert of the
# same person (any casing or spacing: the normalized unique key decides). When that concurrent
# row committed after this statement's snapshot, neither side returns a row and the caller reads
# it with a second statement.
_COLUMNS = (
    "id, first_name, last_name, date_of_birth, first_name_normalized, last_name_normalized, "
    "merged_into_id, created_at, updated_at"
)
_FIND_OR_INSERT_SQL = f"""
WITH found AS (
  SELECT {_COLUMNS} FROM patients_canonical
  WHERE first_name_normalized = cm_normalize_name(%s)
    AND last_name_normalized = cm_normalize_name(%s) AND date_of_birth = %s
), inserted AS (
  INSERT INTO patients_canonical (first_name, last_name, date_of_birth)
  SELECT %s, %s, %s WHERE NOT EXISTS (SELECT 1 FROM found)
  ON CONFLICT DO NOTHING
  RETURNING {_COLUMNS}
)
SELECT {_COLUMNS}, false AS created FROM found
UNION ALL SELECT {_COLUMNS}, true FROM inserted
"""  # noqa: S608 - fixed column list, values are parameters
_MAX_MERGE_CHAIN = 20


def find_or_create_canonical_patient(
    *, first_name: str, last_name: str, date_of_birth: datetime.date | str
) -> tuple[PatientCanonical, bool]:
    """Return ``(patient, created)``: the one canonical row for this person, made if absent.

    Race-safe without check-then-insert (``INSERT … ON CONFLICT DO NOTHING`` against the
    database's exact and normalized unique keys), in one SQL statement when the person exists
    or is new, two when a concurrent call inserted them at the same moment. An identity that
    was merged into another person returns the kept person (``created`` False).
    Names are stored as typed (trimmed); matching uses the database's normalized form.
    """
    first_name = clean_person_name(first_name, label="first_name")
    last_name = clean_person_name(last_name, label="last_name")
    date_of_birth = clean_date_of_birth(date_of_birth)
    params = [first_name, last_name, date_of_birth] * 2
    rows = list(PatientCanonical.objects.raw(_FIND_OR_INSERT_SQL, params))
    if rows:
        patient, created = rows[0], rows[0].created
    else:
        patient, created = _get_by_identity(first_name, last_name, date_of_birth), False
    if patient.merged_into_id is not None:
        return _kept_person(patient), False
    return patient, created


def _get_by_identity(
    first_name: str, last_name: str, date_of_birth: datetime.date, *, exclude=None
) -> PatientCanonical | None:
    found = canonical_patients_with_identity(
        first_name=first_name, last_name=last_name, date_of_birth=date_of_birth
    )
    if exclude is not None:
        found = found.exclude(pk=exclude.pk)
    return found.first()


def _kept_person(patient: PatientCanonical) -> PatientCanonical:
    """Follow merges (A into B, B into C) to the person who holds the rows now."""
    for _ in range(_MAX_MERGE_CHAIN):
        if patient.merged_into_id is None:
            return patient
        patient = PatientCanonical.objects.get(pk=patient.merged_into_id)
    raise ValidationError("This person's merges form a loop; ask an administrator.")


def _require(actor, permission: str, what: str) -> None:
    if actor is None or not actor.has_perm(permission):
        raise PermissionDenied(f"Only staff allowed to {what} can do this.")


def _clean_reason(reason, *, field: str = "reason", what: str = "this change") -> str:
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError({field: f"Give the reason for {what}."})
    return reason


# --- correction ----------------------------------------------------------------------------


@transaction.atomic
def canonical_patient_correct(
    *,
    patient: PatientCanonical,
    actor,
    reason: str,
    first_name: str | None = None,
    last_name: str | None = None,
    date_of_birth: datetime.date | str | None = None,
) -> PatientCanonical:
    """Correct a person's name or date of birth (only what is given), with the reason in the
    audit trail. Returns early when nothing changes.

    A correction that makes the person the same (after normalization) as another canonical
    patient is refused with a ValidationError naming them (code ``same_as_other``, the other's
    id in ``params``): that is a merge, not a correction.
    """
    _require(actor, CORRECT_PERMISSION, "correct a patient's identity")
    reason = _clean_reason(reason, what="the correction")
    patient = PatientCanonical.objects.select_for_update().get(pk=patient.pk)
    if patient.merged_into_id is not None:
        raise ValidationError("This person was merged into another: correct the kept person.")
    wanted = {
        "first_name": patient.first_name
        if first_name is None
        else clean_person_name(first_name, label="first_name"),
        "last_name": patient.last_name
        if last_name is None
        else clean_person_name(last_name, label="last_name"),
        "date_of_birth": patient.date_of_birth
        if date_of_birth is None
        else clean_date_of_birth(date_of_birth),
    }
    changed = [name for name, value in wanted.items() if getattr(patient, name) != value]
    if not changed:
        return patient
    other = _get_by_identity(*wanted.values(), exclude=patient)
    if other is not None:
        raise _same_as_other(other)
    for name in changed:
        setattr(patient, name, wanted[name])
    patient.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with pghistory.context(reason=reason, action="correct"), transaction.atomic():
            patient.save(update_fields=[*changed, "updated_at"])
    except IntegrityError:  # the same identity was written concurrently
        other = _get_by_identity(*wanted.values(), exclude=patient)
        if other is None:
            raise
        raise _same_as_other(other) from None
    patient.refresh_from_db()
    return patient


def _same_as_other(other: PatientCanonical) -> ValidationError:
    return ValidationError(
        "%(other)s (id %(other_id)s) already has this name and date of birth: they may be one "
        "person. Merge the two instead of correcting.",
        code="same_as_other",
        # kept_id: where a merge must go when the other was itself merged into someone.
        params={"other": str(other), "other_id": other.pk, "kept_id": _kept_person(other).pk},
    )


# --- merge and unmerge ---------------------------------------------------------------------


def _lock_pair(first_pk, second_pk) -> tuple[PatientCanonical, PatientCanonical]:
    # Locked in id order, so two merges of the same pair cannot deadlock.
    rows = {
        p.pk: p
        for p in PatientCanonical.objects.select_for_update()
        .filter(pk__in=[first_pk, second_pk])
        .order_by("pk")
    }
    return rows[first_pk], rows[second_pk]


def merge_preview(*, keep: PatientCanonical, merge: PatientCanonical) -> dict:
    """What a merge would do, per app: ``{app: MovePreview}``. Reads only."""
    return {name: mover.preview(keep=keep, merge=merge) for name, mover in merge_movers().items()}


def _refuse_bad_pair(keep: PatientCanonical, merge: PatientCanonical) -> None:
    if keep.pk == merge.pk:
        raise ValidationError("A person cannot be merged into themself.")
    if keep.merged_into_id is not None:
        raise ValidationError(f"{keep} was merged into another person: merge into that person.")
    if merge.merged_into_id is not None:
        raise ValidationError(f"{merge} is already merged into another person.")


def merge_pair_refusals(*, keep: PatientCanonical, merge: PatientCanonical) -> list[str]:
    """Why ``canonical_patients_merge`` would refuse this pair whatever is chosen, in its words:
    the merge page shows them instead of a form that could only fail."""
    try:
        _refuse_bad_pair(keep, merge)
    except ValidationError as exc:
        return exc.messages
    return []


def _clean_choices(choices: Mapping[str, str] | None, previews: dict) -> dict[str, str]:
    choices = dict(choices or {})
    known = {choice.key for preview in previews.values() for choice in preview.choices}
    unknown = set(choices) - known
    if unknown or any(value not in (KEEP, MERGE) for value in choices.values()):
        raise ValidationError("The merge page was out of date: open it again and choose anew.")
    return {key: choices.get(key, KEEP) for key in sorted(known)}


@transaction.atomic
def canonical_patients_merge(
    *,
    keep: PatientCanonical,
    merge: PatientCanonical,
    actor,
    reason: str,
    choices: Mapping[str, str] | None = None,
) -> CanonicalMerge:
    """Make ``merge`` one person with ``keep``: every registered app moves its rows to ``keep``.

    ``choices`` (from the merge page) says, for each one-per-person rule both have a row for,
    whose row survives (identity.merging.KEEP, the default, or MERGE); the other is detached,
    listed on the merge record, and re-attached by unmerge. ``merge`` is never deleted: it points
    at ``keep`` (``merged_into``) and lookups of its identity lead there.

    Refuses (ValidationError, nothing written): the same person twice, a person already merged
    on either side, a blank reason, and whatever a mover blocks (two IntakeQ charts).
    """
    _require(actor, MERGE_PERMISSION, "merge patients")
    reason = _clean_reason(reason, what="the merge")
    if keep.pk == merge.pk:
        raise ValidationError("A person cannot be merged into themself.")
    keep, merge = _lock_pair(keep.pk, merge.pk)
    _refuse_bad_pair(keep, merge)
    previews = merge_preview(keep=keep, merge=merge)
    blockers = [blocker for preview in previews.values() for blocker in preview.blockers]
    if blockers:
        raise ValidationError(blockers)
    choices = _clean_choices(choices, previews)
    moved, detached = {}, []
    with pghistory.context(reason=reason, action="merge"):
        for name, mover in merge_movers().items():
            mine = {c.key for c in previews[name].choices}
            result = mover.move(
                keep=keep,
                merge=merge,
                choices={k: v for k, v in choices.items() if k in mine},
                actor=actor,
            )
            moved[name] = result.payload
            detached.extend({"app": name, "row": row} for row in result.detached)
        record = CanonicalMerge(
            keep=keep,
            merged=merge,
            actor=actor,
            reason=reason,
            choices=choices,
            moved=moved,
            detached=detached,
        )
        record.full_clean()
        record.save()
        merge.merged_into = keep
        merge.save(update_fields=["merged_into", "updated_at"])
        _pair_proposals(keep, merge).filter(status=DuplicateProposal.Status.PENDING).update(
            status=DuplicateProposal.Status.CONFIRMED,
            decided_by=actor,
            decided_at=timezone.now(),
            decision_note=reason,
        )
    return record


@transaction.atomic
def canonical_patients_unmerge(
    *, merge_record: CanonicalMerge, actor, reason: str
) -> CanonicalMerge:
    """Undo a merge: each app puts back the rows it moved and re-attaches what was detached.

    Refuses (ValidationError, nothing written) a merge already undone, a blank reason, and a
    merge whose kept person was since merged into someone else (undo that merge first).
    """
    _require(actor, UNMERGE_PERMISSION, "unmerge patients")
    reason = _clean_reason(reason, what="the unmerge")
    record = CanonicalMerge.objects.select_for_update().get(pk=merge_record.pk)
    if record.unmerged_at is not None:
        raise ValidationError(f"This merge was already undone on {record.unmerged_at:%Y-%m-%d}.")
    keep, merged = _lock_pair(record.keep_id, record.merged_id)
    if keep.merged_into_id is not None:
        raise ValidationError(
            f"{keep} was since merged into another person: undo that merge first."
        )
    with pghistory.context(reason=reason, action="unmerge"):
        for name, mover in reversed(list(merge_movers().items())):
            if name in record.moved:
                mover.restore(keep=keep, merge=merged, payload=record.moved[name], actor=actor)
        merged.merged_into = None
        merged.save(update_fields=["merged_into", "updated_at"])
        record.unmerged_at = timezone.now()
        record.unmerged_by = actor
        record.unmerge_reason = reason
        record.full_clean()
        record.save(update_fields=["unmerged_at", "unmerged_by", "unmerge_reason"])
    return record


# --- duplicate proposals (two canonical rows that may be one person) ---------------------------


def _pair_proposals(a: PatientCanonical, b: PatientCanonical):
    first, second = sorted([a.pk, b.pk], key=str)
    return DuplicateProposal.objects.filter(first_id=first, second_id=second)


def duplicate_proposal_queue(
    *, patient: PatientCanonical, other_id, score, reasons: Iterable[str] = ()
) -> DuplicateProposal | None:
    """Queue the pair for review once; never again once decided. None when not worth queuing
    (the same row, or either side merged away)."""
    if str(patient.pk) == str(other_id):
        return None
    first, second = sorted([str(patient.pk), str(other_id)])
    if PatientCanonical.objects.filter(pk__in=[first, second], merged_into__isnull=False).exists():
        return None
    existing = DuplicateProposal.objects.filter(first_id=first, second_id=second).first()
    if existing is not None:
        return existing
    proposal = DuplicateProposal(
        first_id=first, second_id=second, score=score, reasons=list(reasons)
    )
    proposal.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            proposal.save()
    except IntegrityError:  # proposed concurrently: the pair's UNIQUE kept one
        return DuplicateProposal.objects.get(first_id=first, second_id=second)
    return proposal


@transaction.atomic
def canonical_duplicates_propose(
    *, patient: PatientCanonical, candidates: Iterable[Candidate]
) -> list[DuplicateProposal]:
    """Queue the canonical candidates at or above the review score as possible duplicates of
    ``patient`` (e.g. the ones a CPSS was shown before choosing "a new person")."""
    review_min = review_min_score()
    queued = []
    for candidate in candidates:
        if candidate.source != CANONICAL or candidate.score < review_min:
            continue
        proposal = duplicate_proposal_queue(
            patient=patient,
            other_id=candidate.pk,
            score=candidate.score,
            reasons=candidate.reasons,
        )
        if proposal is not None and proposal.status == DuplicateProposal.Status.PENDING:
            queued.append(proposal)
    return queued


@transaction.atomic
def duplicate_proposal_reject(
    *, proposal: DuplicateProposal, actor, note: str
) -> DuplicateProposal:
    """'Different people', with the note saying why: the pair is never proposed again."""
    _require(actor, REVIEW_PERMISSION, "review possible duplicates")
    note = _clean_reason(note, field="note", what="rejecting the pair")
    proposal = DuplicateProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status == DuplicateProposal.Status.REJECTED:
        return proposal
    if proposal.status == DuplicateProposal.Status.CONFIRMED:
        raise ValidationError("This pair was merged; unmerge it with a reason instead.")
    proposal.status = DuplicateProposal.Status.REJECTED
    proposal.decided_by = actor
    proposal.decided_at = timezone.now()
    proposal.decision_note = note
    proposal.full_clean(validate_unique=False, validate_constraints=False)
    proposal.save()
    return proposal


def duplicate_proposals_of(patient: PatientCanonical):
    return DuplicateProposal.objects.filter(Q(first=patient) | Q(second=patient))
