"""identity's own merge mover: pending duplicate proposals of the merged person follow them.

Decided proposals stay as they are (they are the record of a decision, pointing at a row that is
never deleted); a pending one that would duplicate a pair the kept person already has stays too.
"""

from django.db.models import Q

from identity.merging import MovePreview, MoveResult
from identity.models import DuplicateProposal

_PENDING = DuplicateProposal.Status.PENDING


def _pending_of(patient, *, excluding):
    return DuplicateProposal.objects.filter(
        Q(first=patient) | Q(second=patient), status=_PENDING
    ).exclude(Q(first=excluding) | Q(second=excluding))


def _other_side(proposal, patient):
    return proposal.second_id if proposal.first_id == patient.pk else proposal.first_id


class DuplicateProposalMover:
    def preview(self, *, keep, merge) -> MovePreview:
        count = _pending_of(merge, excluding=keep).count()
        moves = (f"{count} pending duplicate proposal(s)",) if count else ()
        return MovePreview(moves=moves)

    def move(self, *, keep, merge, choices, actor) -> MoveResult:
        taken = {
            _other_side(p, keep)
            for p in DuplicateProposal.objects.filter(Q(first=keep) | Q(second=keep))
        }
        moved = []
        for proposal in _pending_of(merge, excluding=keep):
            other = _other_side(proposal, merge)
            if other in taken:
                continue
            taken.add(other)
            moved.append([str(proposal.pk), str(proposal.first_id), str(proposal.second_id)])
            first, second = sorted([keep.pk, other], key=str)
            DuplicateProposal.objects.filter(pk=proposal.pk).update(
                first_id=first, second_id=second
            )
        return MoveResult(payload={"duplicate_proposals": moved})

    def restore(self, *, keep, merge, payload, actor) -> None:
        for pk, first, second in payload.get("duplicate_proposals", []):
            DuplicateProposal.objects.filter(pk=pk, status=_PENDING).update(
                first_id=first, second_id=second
            )
