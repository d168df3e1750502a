"""intakeq_link's merge mover (identity.merging): the IntakeQ link and pending proposals follow.

Two different IntakeQ charts cannot be merged: that is a duplicate in the EMR, fixed there
first. Link history and decided proposals are records of what happened and stay pointing at the
merged person (never deleted); moving the link itself is written to the link history as an
unlink and a link, and so is putting it back.
"""

from django.core.exceptions import ValidationError

from identity.merging import MovePreview, MoveResult
from intakeq_link.models import LinkHistory, LinkProposal, PatientIntakeQLink

_PENDING = LinkProposal.Status.PENDING


def _link_of(patient):
    return (
        PatientIntakeQLink.objects.filter(canonical_patient=patient)
        .select_related("intakeq_patient")
        .first()
    )


def _movable_proposals(keep, merge):
    taken = LinkProposal.objects.filter(canonical_patient=keep).values("intakeq_patient_id")
    return LinkProposal.objects.filter(canonical_patient=merge, status=_PENDING).exclude(
        intakeq_patient_id__in=taken
    )


def _history(link, canonical_patient_id, action, actor, reason):
    entry = LinkHistory(
        canonical_patient_id=canonical_patient_id,
        intakeq_patient_id=link.intakeq_patient_id,
        action=action,
        confidence_score=link.confidence_score,
        actor=actor,
        reason=reason,
    )
    entry.full_clean()
    entry.save()


def _move_link(link, *, source, target, actor, reason):
    _history(link, source.pk, LinkHistory.Action.UNLINKED, actor, reason)
    PatientIntakeQLink.objects.filter(pk=link.pk).update(canonical_patient=target)
    _history(link, target.pk, LinkHistory.Action.LINKED, actor, reason)


class IntakeQLinkMover:
    def preview(self, *, keep, merge) -> MovePreview:
        keep_link, merge_link = _link_of(keep), _link_of(merge)
        moves, blockers = [], []
        if (
            keep_link
            and merge_link
            and keep_link.intakeq_patient_id != merge_link.intakeq_patient_id
        ):
            blockers.append(
                "Both people are linked to different IntakeQ charts (client "
                f"{keep_link.intakeq_patient.intakeq_client_id} and "
                f"{merge_link.intakeq_patient.intakeq_client_id}): that is a duplicate in the "
                "EMR. Fix it in IntakeQ first, then unlink one here."
            )
        elif merge_link:
            moves.append(f"IntakeQ link (client {merge_link.intakeq_patient.intakeq_client_id})")
        pending = _movable_proposals(keep, merge).count()
        if pending:
            moves.append(f"{pending} pending IntakeQ link proposal(s)")
        return MovePreview(moves=tuple(moves), blockers=tuple(blockers))

    def move(self, *, keep, merge, choices, actor) -> MoveResult:
        payload = {"link": None, "proposals": []}
        merge_link = _link_of(merge)
        if merge_link is not None:
            if PatientIntakeQLink.objects.filter(canonical_patient=keep).exists():
                raise ValidationError("Both people are linked to IntakeQ: fix the EMR first.")
            _move_link(
                merge_link, source=merge, target=keep, actor=actor, reason=f"Merged into {keep.pk}"
            )
            payload["link"] = str(merge_link.pk)
        proposals = list(_movable_proposals(keep, merge).values_list("pk", flat=True))
        LinkProposal.objects.filter(pk__in=proposals).update(canonical_patient=keep)
        payload["proposals"] = [str(pk) for pk in proposals]
        return MoveResult(payload=payload)

    def restore(self, *, keep, merge, payload, actor) -> None:
        LinkProposal.objects.filter(
            pk__in=payload.get("proposals", []), canonical_patient=keep, status=_PENDING
        ).update(canonical_patient=merge)
        link = PatientIntakeQLink.objects.filter(
            pk=payload.get("link"), canonical_patient=keep
        ).first()
        if link is not None:
            _move_link(
                link, source=keep, target=merge, actor=actor, reason=f"Unmerged from {keep.pk}"
            )
