"""Links between canonical patients and IntakeQ patients: made, proposed, decided, undone.

Public functions (documented in docs/identity-and-matching.md):

- ``intakeq_link_create``: link one pair now (a staff decision or an automatic match).
- ``intakeq_link_delete``: unlink, with a reason kept in ``LinkHistory``.
- ``propose_links_for``: run the matcher for a canonical patient against IntakeQ; link at or above
  ``settings.CM_AUTO_LINK_MIN_SCORE``, queue for review at or above
  ``settings.CM_LINK_REVIEW_MIN_SCORE``, ignore the rest and every pair staff rejected.
  ``propose_links_for_intakeq``: the same from an IntakeQ row (manage.py propose_links).
- ``declined_candidates_queue``: Scenario 1's candidates the CPSS declined go to the queues.
- ``link_proposal_confirm`` / ``link_proposal_reject``: staff decide a queued pair.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from identity.matching import (
    CANONICAL,
    Candidate,
    auto_link_min_score,
    find_candidates,
    review_min_score,
)
from identity.models import PatientCanonical
from identity.services import canonical_duplicates_propose
from intakeq_link.matching import INTAKEQ
from intakeq_link.models import IntakeQPatient, LinkHistory, LinkProposal, PatientIntakeQLink

REVIEW_PERMISSION = "intakeq_link.review_patientintakeqlink"
UNLINK_PERMISSION = "intakeq_link.delete_patientintakeqlink"

# How many IntakeQ candidates one proposal run considers; more than a handful means the blocking
# found a crowd (same birthday), and the lower ones are never worth a reviewer's time.
_PROPOSAL_CANDIDATES = 10


def _clean_score(value) -> Decimal:
    try:
        score = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationError({"confidence_score": "Enter a score from 0.00 to 1.00."}) from None
    if not Decimal("0") <= score <= Decimal("1"):
        raise ValidationError({"confidence_score": "Enter a score from 0.00 to 1.00."})
    return score


def _provider_id_of(user) -> object | None:
    """The seed's linked_by is a CM provider id; staff with a CM provider row get it filled."""
    if user is None:
        return None
    try:
        return user.cm_provider.pk
    except (AttributeError, ObjectDoesNotExist):
        return None


def _require(actor, permission: str) -> None:
    if actor is None or not actor.has_perm(permission):
        raise PermissionDenied("Only staff allowed to review IntakeQ links can do this.")


def intakeq_link_refusals(
    *, canonical_patient: PatientCanonical | None, intakeq_patient: IntakeQPatient | None
) -> dict[str, str]:
    """Why this pair can never be linked, whoever else is linked: field name -> message (empty:
    it can). A side that is None is not judged. Reads ``merged_into_id`` as given:
    intakeq_link_create reads the person again under a lock; the admin's form asks first."""
    refusals = {}
    if intakeq_patient is not None and not intakeq_patient.is_from_intakeq:
        refusals["intakeq_patient"] = "This record was written by the old CM app, not by IntakeQ."
    if canonical_patient is not None and canonical_patient.merged_into_id is not None:
        refusals["canonical_patient"] = "This person was merged into another: link the kept person."
    return refusals


@transaction.atomic
def intakeq_link_create(
    *,
    canonical_patient: PatientCanonical,
    intakeq_patient: IntakeQPatient,
    confidence_score: Decimal,
    linked_by=None,
    actor=None,
    automatic: bool = False,
) -> PatientIntakeQLink:
    """Link the pair; ``actor`` is the staff user who confirmed it.

    ``automatic`` links were made by the matcher, not confirmed by anyone: linked_by stays empty
    and ``actor`` (who triggered the match, if anyone) is kept in history only.

    Returns the existing link when this exact pair is already linked. Raises ValidationError
    when either side is linked to someone else, also when another request wins the race (the
    database's one-link-per-side UNIQUEs decide), and for rows the old CM app wrote.
    """
    confidence_score = _clean_score(confidence_score)
    # Locked as a merge locks it, so a merge cannot slip in between this check and the link.
    locked = PatientCanonical.objects.select_for_update().filter(pk=canonical_patient.pk).first()
    refusals = intakeq_link_refusals(
        canonical_patient=locked or canonical_patient, intakeq_patient=intakeq_patient
    )
    if refusals:
        raise ValidationError(refusals)
    existing = PatientIntakeQLink.objects.filter(
        canonical_patient=canonical_patient, intakeq_patient=intakeq_patient
    ).first()
    if existing is not None:
        return existing
    _refuse_if_either_side_linked(canonical_patient, intakeq_patient)

    link = PatientIntakeQLink(
        canonical_patient=canonical_patient,
        intakeq_patient=intakeq_patient,
        confidence_score=confidence_score,
        linked_by=linked_by if linked_by is not None or automatic else _provider_id_of(actor),
        linked_by_user=None if automatic else actor,
    )
    # full_clean's unique checks read before we write; the database has the last word below.
    link.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            link.save()
    except IntegrityError:
        _refuse_if_either_side_linked(canonical_patient, intakeq_patient)
        raise
    _history_add(
        canonical_patient_id=canonical_patient.pk,
        intakeq_patient_id=intakeq_patient.pk,
        action=LinkHistory.Action.LINKED,
        confidence_score=confidence_score,
        automatic=automatic,
        actor=actor,
    )
    # Other pending proposals for either person are moot now: one link per side.
    LinkProposal.objects.filter(status=LinkProposal.Status.PENDING).filter(
        canonical_patient=canonical_patient
    ).exclude(intakeq_patient=intakeq_patient).delete()
    LinkProposal.objects.filter(status=LinkProposal.Status.PENDING).filter(
        intakeq_patient=intakeq_patient
    ).exclude(canonical_patient=canonical_patient).delete()
    return link


def _refuse_if_either_side_linked(canonical_patient, intakeq_patient) -> None:
    if PatientIntakeQLink.objects.filter(canonical_patient=canonical_patient).exists():
        raise ValidationError(
            {"canonical_patient": "This patient is already linked to an IntakeQ patient."}
        )
    if PatientIntakeQLink.objects.filter(intakeq_patient=intakeq_patient).exists():
        raise ValidationError(
            {"intakeq_patient": "This IntakeQ patient is already linked to another patient."}
        )


@transaction.atomic
def intakeq_link_delete(
    *, link: PatientIntakeQLink, actor, reason: str, different_people: bool = False
) -> None:
    """Unlink, keeping who, when and why in LinkHistory.

    With ``different_people`` the pair is also remembered as rejected, so it is never proposed
    again.
    """
    _require(actor, UNLINK_PERMISSION)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the link is being removed."})
    link = PatientIntakeQLink.objects.select_for_update().filter(pk=link.pk).first()
    if link is None:
        return  # already unlinked
    canonical_patient_id, intakeq_patient_id = link.canonical_patient_id, link.intakeq_patient_id
    _history_add(
        canonical_patient_id=canonical_patient_id,
        intakeq_patient_id=intakeq_patient_id,
        action=LinkHistory.Action.UNLINKED,
        confidence_score=link.confidence_score,
        actor=actor,
        reason=reason,
    )
    link.delete()
    if different_people:
        proposal = LinkProposal.objects.filter(
            canonical_patient_id=canonical_patient_id, intakeq_patient_id=intakeq_patient_id
        ).first() or LinkProposal(
            canonical_patient_id=canonical_patient_id,
            intakeq_patient_id=intakeq_patient_id,
            score=link.confidence_score or Decimal("0"),
        )
        _decide(proposal, status=LinkProposal.Status.REJECTED, actor=actor, note=reason)


def _history_add(**fields) -> LinkHistory:
    entry = LinkHistory(**fields)
    entry.full_clean()
    entry.save()
    return entry


def _proposal_get_or_create(*, canonical_patient, intakeq_patient_id, candidate) -> LinkProposal:
    """One proposal per pair, whoever proposes it first; a rerun leaves an existing one as is."""
    existing = LinkProposal.objects.filter(
        canonical_patient=canonical_patient, intakeq_patient_id=intakeq_patient_id
    ).first()
    if existing is not None:
        return existing
    proposal = LinkProposal(
        canonical_patient=canonical_patient,
        intakeq_patient_id=intakeq_patient_id,
        score=candidate.score,
        reasons=list(candidate.reasons),
    )
    proposal.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            proposal.save()
    except IntegrityError:  # proposed concurrently: the pair's UNIQUE kept one
        return LinkProposal.objects.get(
            canonical_patient=canonical_patient, intakeq_patient_id=intakeq_patient_id
        )
    return proposal


@dataclass(frozen=True)
class LinkProposalOutcome:
    """What a proposal run did: the link it made (if any), the pairs it queued, and (when asked)
    the possible duplicate canonical patients it queued."""

    link: PatientIntakeQLink | None = None
    queued: tuple[LinkProposal, ...] = field(default_factory=tuple)
    duplicates: tuple = field(default_factory=tuple)  # identity.DuplicateProposal


def _rejected_pairs(canonical_ids, intakeq_ids) -> set[tuple[str, str]]:
    """Pairs staff rejected, also through a person merged into the canonical side since."""
    rows = LinkProposal.objects.filter(
        Q(canonical_patient_id__in=canonical_ids)
        | Q(canonical_patient__merged_into_id__in=canonical_ids),
        intakeq_patient_id__in=intakeq_ids,
        status=LinkProposal.Status.REJECTED,
    ).values_list("canonical_patient_id", "canonical_patient__merged_into_id", "intakeq_patient_id")
    pairs = set()
    for canonical_id, merged_into_id, intakeq_id in rows:
        pairs.add((str(canonical_id), str(intakeq_id)))
        if merged_into_id is not None:
            pairs.add((str(merged_into_id), str(intakeq_id)))
    return pairs


def _link_or_queue(
    pairs: list[tuple[PatientCanonical, object, Candidate]], actor
) -> LinkProposalOutcome:
    """``pairs``: (canonical patient, IntakeQ patient id, candidate), best first, all at or above
    the review score. Links the one pair at or above the auto-link score when it is alone there;
    otherwise queues them all. Skips rejected pairs and sides already linked."""
    canonical_ids = {str(c.pk) for c, _, _ in pairs}
    intakeq_ids = {str(i) for _, i, _ in pairs}
    rejected = _rejected_pairs(canonical_ids, intakeq_ids)
    linked = PatientIntakeQLink.objects.filter(
        Q(canonical_patient_id__in=canonical_ids) | Q(intakeq_patient_id__in=intakeq_ids)
    ).values_list("canonical_patient_id", "intakeq_patient_id")
    linked_sides = {str(side) for pair in linked for side in pair if side is not None}
    pairs = [
        (c, i, cand)
        for c, i, cand in pairs
        if (str(c.pk), str(i)) not in rejected
        and str(c.pk) not in linked_sides
        and str(i) not in linked_sides
    ][:_PROPOSAL_CANDIDATES]
    if not pairs:
        return LinkProposalOutcome()
    sure = [pair for pair in pairs if pair[2].score >= auto_link_min_score()]
    if len(sure) == 1:
        canonical_patient, intakeq_id, best = sure[0]
        try:
            link = intakeq_link_create(
                canonical_patient=canonical_patient,
                intakeq_patient=IntakeQPatient.objects.get(pk=intakeq_id),
                confidence_score=best.score,
                actor=actor,
                automatic=True,
            )
        except ValidationError:
            link = None  # a side was linked meanwhile: queue it instead
        if link is not None:
            return LinkProposalOutcome(link=link)
    queued = []
    for canonical_patient, intakeq_id, candidate in pairs:
        proposal = _proposal_get_or_create(
            canonical_patient=canonical_patient, intakeq_patient_id=intakeq_id, candidate=candidate
        )
        if proposal.status == LinkProposal.Status.PENDING:
            queued.append(proposal)
    return LinkProposalOutcome(queued=tuple(queued))


def _reviewable(candidates, source: str) -> list[Candidate]:
    review_min = review_min_score()
    return [c for c in candidates if c.source == source and c.score >= review_min]


@transaction.atomic
def propose_links_for(
    *, canonical_patient: PatientCanonical, actor=None, include_duplicates: bool = False
) -> LinkProposalOutcome:
    """Match a canonical patient against IntakeQ: link, queue for review, or do nothing.

    A single IntakeQ candidate at or above CM_AUTO_LINK_MIN_SCORE is linked automatically; when
    two or more reach it the choice is a person's, so they are all queued. Candidates at or above
    CM_LINK_REVIEW_MIN_SCORE are queued. IntakeQ patients linked to someone else and pairs staff
    rejected are never proposed. Safe to call again: existing proposals are kept as they are.
    ``actor`` is recorded in history as who triggered an automatic link. With
    ``include_duplicates`` the canonical candidates at or above the review score are queued as
    possible duplicates (identity.DuplicateProposal) too.
    """
    if canonical_patient.merged_into_id is not None:
        return LinkProposalOutcome()
    linked = PatientIntakeQLink.objects.filter(canonical_patient=canonical_patient).exists()
    if linked and not include_duplicates:
        return LinkProposalOutcome()
    cm = _reverse_one(canonical_patient, "cm_record")
    candidates = find_candidates(
        first_name=canonical_patient.first_name,
        last_name=canonical_patient.last_name,
        date_of_birth=canonical_patient.date_of_birth,
        limit=_PROPOSAL_CANDIDATES * 5,
        phone=cm.phone if cm else None,
        email=cm.email if cm else None,
    )
    outcome = LinkProposalOutcome()
    if not linked:
        outcome = _link_or_queue(
            [(canonical_patient, c.pk, c) for c in _reviewable(candidates, INTAKEQ)], actor
        )
    if include_duplicates:
        others = [c for c in candidates if str(c.pk) != str(canonical_patient.pk)]
        duplicates = canonical_duplicates_propose(patient=canonical_patient, candidates=others)
        outcome = LinkProposalOutcome(outcome.link, outcome.queued, tuple(duplicates))
    return outcome


@transaction.atomic
def propose_links_for_intakeq(
    *, intakeq_patient: IntakeQPatient, actor=None
) -> LinkProposalOutcome:
    """The other direction: an IntakeQ row (e.g. new since the last nightly run) against the
    canonical patients, with the same rules as ``propose_links_for``."""
    if not intakeq_patient.is_from_intakeq or intakeq_patient.date_of_birth is None:
        return LinkProposalOutcome()
    if PatientIntakeQLink.objects.filter(intakeq_patient=intakeq_patient).exists():
        return LinkProposalOutcome()
    try:
        candidates = find_candidates(
            first_name=intakeq_patient.first_name,
            last_name=intakeq_patient.last_name,
            date_of_birth=intakeq_patient.date_of_birth,
            limit=_PROPOSAL_CANDIDATES * 5,
            phone=intakeq_patient.phone,
            email=intakeq_patient.email,
        )
    except ValidationError:
        return LinkProposalOutcome()  # a blank name or impossible date in the EMR: nothing to match
    canonical = _reviewable(candidates, CANONICAL)
    patients = PatientCanonical.objects.in_bulk([c.pk for c in canonical])
    return _link_or_queue(
        [(patients[c.pk], intakeq_patient.pk, c) for c in canonical if c.pk in patients], actor
    )


@transaction.atomic
def declined_candidates_queue(
    *, canonical_patient: PatientCanonical, candidates, actor=None
) -> LinkProposalOutcome:
    """Scenario 1: the CPSS chose "a new person" although the matcher offered ``candidates``.

    The ones at or above the review score go to the review queues: IntakeQ candidates as link
    proposals, canonical ones as possible duplicates. Never linked automatically: a person said
    these are someone else, so only a reviewer may say otherwise.
    """
    review_min = review_min_score()
    intakeq = [
        (canonical_patient, c.pk, c)
        for c in candidates
        if c.source == INTAKEQ and c.score >= review_min
    ]
    queued = ()
    if (
        intakeq
        and not PatientIntakeQLink.objects.filter(canonical_patient=canonical_patient).exists()
    ):
        rejected = _rejected_pairs({str(canonical_patient.pk)}, {str(i) for _, i, _ in intakeq})
        queued = tuple(
            proposal
            for c, i, cand in intakeq
            if (str(c.pk), str(i)) not in rejected
            and (
                proposal := _proposal_get_or_create(
                    canonical_patient=c, intakeq_patient_id=i, candidate=cand
                )
            ).status
            == LinkProposal.Status.PENDING
        )
    others = [c for c in candidates if str(c.pk) != str(canonical_patient.pk)]
    duplicates = canonical_duplicates_propose(patient=canonical_patient, candidates=others)
    return LinkProposalOutcome(queued=queued, duplicates=tuple(duplicates))


def _reverse_one(instance, name):
    try:
        return getattr(instance, name)
    except ObjectDoesNotExist:
        return None


def _decide(proposal: LinkProposal, *, status: str, actor, note: str) -> LinkProposal:
    proposal.status = status
    proposal.decided_by = actor
    proposal.decided_at = timezone.now()
    proposal.decision_note = note
    proposal.full_clean(validate_unique=False)
    proposal.save()
    return proposal


def _locked(proposal: LinkProposal) -> LinkProposal:
    return LinkProposal.objects.select_for_update().get(pk=proposal.pk)


@transaction.atomic
def link_proposal_confirm(*, proposal: LinkProposal, actor, note: str = "") -> PatientIntakeQLink:
    """'Same person': link the pair with the proposal's score, recording who and when."""
    _require(actor, REVIEW_PERMISSION)
    proposal = _locked(proposal)
    if proposal.status == LinkProposal.Status.CONFIRMED:
        return PatientIntakeQLink.objects.get(
            canonical_patient_id=proposal.canonical_patient_id,
            intakeq_patient_id=proposal.intakeq_patient_id,
        )
    if proposal.status == LinkProposal.Status.REJECTED:
        raise ValidationError("This pair was already judged to be different people.")
    intakeq_patient = IntakeQPatient.objects.filter(pk=proposal.intakeq_patient_id).first()
    if intakeq_patient is None:
        raise ValidationError("This IntakeQ patient no longer exists.")
    link = intakeq_link_create(
        canonical_patient=proposal.canonical_patient,
        intakeq_patient=intakeq_patient,
        confidence_score=proposal.score,
        actor=actor,
    )
    _decide(proposal, status=LinkProposal.Status.CONFIRMED, actor=actor, note=note.strip())
    return link


@transaction.atomic
def link_proposal_reject(*, proposal: LinkProposal, actor, note: str = "") -> LinkProposal:
    """'Different people', with a note saying why: remembered, never proposed again."""
    _require(actor, REVIEW_PERMISSION)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say why these are different people."})
    proposal = _locked(proposal)
    if proposal.status == LinkProposal.Status.REJECTED:
        return proposal
    if proposal.status == LinkProposal.Status.CONFIRMED:
        raise ValidationError("This pair is already linked; unlink it with a reason instead.")
    return _decide(proposal, status=LinkProposal.Status.REJECTED, actor=actor, note=note.strip())
