"""cm_program's merge mover (identity.merging): the CM record and the enrollments follow the person.

One CM record per person and one enrollment per program: where both people have one, the admin
chooses on the merge page whose row survives; the other is detached (its canonical_patient set
to NULL, never deleted) and re-attached by unmerge. Status history follows its enrollment by
foreign key and is never rewritten. Every touched row's original pointers are kept in the
payload, so unmerge puts back exactly those.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cm_program.models import Enrollment, PatientCM
from cm_program.services import _sync_cm_patient_status as sync_cm_patient_status
from identity.merging import KEEP, MERGE, Choice, MovePreview, MoveResult

CM_RECORD = "cm_record"


def _enrollment_key(enrollment: Enrollment) -> str:
    return f"enrollment:{enrollment.cm_program_id}"


def _describe_cm(cm: PatientCM) -> str:
    status = cm.get_status_display() if cm.status else "no status"
    return f"CM record ({status}, created {cm.created_at:%Y-%m-%d})"


def _describe_enrollment(e: Enrollment) -> str:
    status = e.get_status_display() if e.status else "no status"
    return f"Enrollment in {e.cm_program} ({status}, CPSS {e.cpss_provider or 'unassigned'})"


def _enrollments(patient):
    return Enrollment.objects.filter(canonical_patient=patient).select_related(
        "cm_program", "cpss_provider"
    )


class CmProgramMover:
    def preview(self, *, keep, merge) -> MovePreview:
        moves, choices = [], []
        keep_cm = PatientCM.objects.filter(canonical_patient=keep).first()
        merge_cm = PatientCM.objects.filter(canonical_patient=merge).first()
        if keep_cm and merge_cm:
            choices.append(
                Choice(CM_RECORD, "CM record", _describe_cm(keep_cm), _describe_cm(merge_cm))
            )
        elif merge_cm:
            moves.append(_describe_cm(merge_cm))
        keep_by_program = {e.cm_program_id: e for e in _enrollments(keep)}
        for enrollment in _enrollments(merge):
            other = keep_by_program.get(enrollment.cm_program_id)
            if other is None:
                moves.append(f"{_describe_enrollment(enrollment)}, with its status history")
            else:
                choices.append(
                    Choice(
                        _enrollment_key(enrollment),
                        f"Enrollment in {enrollment.cm_program}",
                        _describe_enrollment(other),
                        _describe_enrollment(enrollment),
                    )
                )
        return MovePreview(moves=tuple(moves), choices=tuple(choices))

    def move(self, *, keep, merge, choices, actor) -> MoveResult:
        cm_rows = list(
            PatientCM.objects.select_for_update().filter(canonical_patient__in=[keep, merge])
        )
        enrollments = list(
            Enrollment.objects.select_for_update(of=("self",))
            .filter(canonical_patient__in=[keep, merge])
            .select_related("cm_program", "cpss_provider")
        )
        payload = {
            "cm_records": [[str(c.pk), str(c.canonical_patient_id)] for c in cm_rows],
            "enrollments": [
                [str(e.pk), str(e.canonical_patient_id), str(e.cm_patient_id or "")]
                for e in enrollments
            ],
        }
        detached = []
        by_owner = {c.canonical_patient_id: c for c in cm_rows}
        surviving_cm = by_owner.get(keep.pk)
        if keep.pk in by_owner and merge.pk in by_owner:
            loser_owner = keep.pk if choices.get(CM_RECORD, KEEP) == MERGE else merge.pk
            loser = by_owner[loser_owner]
            surviving_cm = by_owner[merge.pk if loser_owner == keep.pk else keep.pk]
            PatientCM.objects.filter(pk=loser.pk).update(canonical_patient=None)
            detached.append(
                _describe_cm(loser) + f" of {keep if loser_owner == keep.pk else merge}"
            )
        elif merge.pk in by_owner:
            surviving_cm = by_owner[merge.pk]
        if surviving_cm is not None:
            PatientCM.objects.filter(pk=surviving_cm.pk).update(canonical_patient=keep)

        keep_by_program = {
            e.cm_program_id: e for e in enrollments if e.canonical_patient_id == keep.pk
        }
        for enrollment in (e for e in enrollments if e.canonical_patient_id == merge.pk):
            other = keep_by_program.get(enrollment.cm_program_id)
            if other is not None:
                merge_wins = choices.get(_enrollment_key(enrollment), KEEP) == MERGE
                loser = other if merge_wins else enrollment
                Enrollment.objects.filter(pk=loser.pk).update(canonical_patient=None)
                owner = keep if merge_wins else merge
                detached.append(f"{_describe_enrollment(loser)} of {owner}")
                if not merge_wins:
                    continue
            Enrollment.objects.filter(pk=enrollment.pk).update(canonical_patient=keep)
        if surviving_cm is not None:
            Enrollment.objects.filter(canonical_patient=keep).exclude(
                cm_patient=surviving_cm
            ).update(cm_patient=surviving_cm)
            sync_cm_patient_status(surviving_cm)
        return MoveResult(payload=payload, detached=tuple(detached))

    def restore(self, *, keep, merge, payload, actor) -> None:
        owners = {str(keep.pk), str(merge.pk)}
        cm_ids = [pk for pk, _ in payload.get("cm_records", [])]
        enrollment_ids = [pk for pk, *_ in payload.get("enrollments", [])]
        # Only rows still with this pair (or detached): a row moved on since is left alone.
        cm_back = PatientCM.objects.filter(pk__in=cm_ids).filter(
            canonical_patient__isnull=True
        ) | PatientCM.objects.filter(pk__in=cm_ids, canonical_patient__in=owners)
        enrollments_back = Enrollment.objects.filter(pk__in=enrollment_ids).filter(
            canonical_patient__isnull=True
        ) | Enrollment.objects.filter(pk__in=enrollment_ids, canonical_patient__in=owners)
        cm_back_ids = {str(pk) for pk in cm_back.values_list("pk", flat=True)}
        enrollment_back_ids = {str(pk) for pk in enrollments_back.values_list("pk", flat=True)}
        try:
            with transaction.atomic():
                # Clear first, then restore: the one-per-person keys never see two rows at once.
                Enrollment.objects.filter(pk__in=enrollment_back_ids).update(canonical_patient=None)
                PatientCM.objects.filter(pk__in=cm_back_ids).update(canonical_patient=None)
                for pk, owner in payload.get("cm_records", []):
                    if pk in cm_back_ids:
                        PatientCM.objects.filter(pk=pk).update(canonical_patient=owner)
                for pk, owner, cm_patient in payload.get("enrollments", []):
                    if pk in enrollment_back_ids:
                        Enrollment.objects.filter(pk=pk).update(
                            canonical_patient=owner, cm_patient=cm_patient or None
                        )
        except IntegrityError:
            raise ValidationError(
                "A CM record or enrollment cannot go back: the person has a new one in its "
                "place since the merge. Withdraw or move that one first."
            ) from None
        for cm in PatientCM.objects.filter(pk__in=cm_back_ids):
            sync_cm_patient_status(cm)
