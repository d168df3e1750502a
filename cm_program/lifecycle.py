"""Writes for an enrollment's life after enrolling (issue 12): final statuses and their 30-day
undo, a supervisor's reactivation (a withdrawn person re-enrolled with a new enrollment date),
and moving a departing CPSS's whole caseload at once.

Every status or CPSS change writes its row in the enrollment's status history, with the reason.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cm_program import selectors
from cm_program.models import Enrollment, EnrollmentStatusChange, ParticipationStatus
from cm_program.services import (
    cpss_assignment_check,
    enrollment_cpss_reassign,
    enrollment_status_write,
)
from providers.models import ProviderCM

FINAL_STATUSES = frozenset({ParticipationStatus.GRADUATED, ParticipationStatus.WITHDRAWN})
UNDO_DAYS = 30
# Reactivating onto any caseload, undoing a final status and moving caseloads: supervisors.
SUPERVISOR_PERMISSION = "cm_program.reassign_cpss"


def _require_supervisor(actor, what: str) -> None:
    if actor is None or not actor.has_perm(SUPERVISOR_PERMISSION):
        raise PermissionDenied(f"Only a supervisor can {what}.")


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for this change."})
    return reason


def _lock(enrollment: Enrollment) -> Enrollment:
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("cm_program", "cpss_provider")
        .get(pk=enrollment.pk)
    )


@dataclass(frozen=True)
class FinalUndo:
    """The final status an enrollment could go back from, until ``deadline``."""

    back_to: str
    deadline: datetime.datetime


def final_status_undo_window(enrollment: Enrollment, *, now=None) -> FinalUndo | None:
    """Where an undo would take a graduated or withdrawn enrollment, while it still may."""
    if enrollment.status not in FINAL_STATUSES:
        return None
    change = (
        EnrollmentStatusChange.objects.filter(
            enrollment=enrollment, to_status=enrollment.status, from_status__isnull=False
        )
        .exclude(from_status=enrollment.status)
        .order_by("-changed_at", "-id")
        .first()
    )
    if change is None or change.from_status in FINAL_STATUSES:
        return None
    deadline = change.changed_at + datetime.timedelta(days=UNDO_DAYS)
    if (now or timezone.now()) > deadline:
        return None
    return FinalUndo(back_to=change.from_status, deadline=deadline)


@transaction.atomic
def enrollment_final_status_undo(*, enrollment: Enrollment, reason: str, actor) -> Enrollment:
    """A supervisor takes back a graduation or withdrawal within UNDO_DAYS: the enrollment
    returns to the status it had, under the caseload rule when that is active."""
    _require_supervisor(actor, "undo a final status")
    reason = _reason(reason)
    enrollment = _lock(enrollment)
    window = final_status_undo_window(enrollment)
    if window is None:
        raise ValidationError(
            f"This {enrollment.get_status_display().lower()} status is final: it is more than "
            f"{UNDO_DAYS} days old, or there is nothing to undo."
        )
    if window.back_to == ParticipationStatus.ACTIVE and enrollment.cpss_provider_id:
        cpss_assignment_check(provider=enrollment.cpss_provider)
    return enrollment_status_write(
        enrollment=enrollment,
        to_status=window.back_to,
        reason=f"Undone ({enrollment.get_status_display().lower()}): {reason}",
        actor=actor,
    )


@transaction.atomic
def enrollment_reactivate(
    *,
    enrollment: Enrollment,
    reason: str,
    actor,
    cpss_provider: ProviderCM | None = None,
    enrollment_date: datetime.date | None = None,
) -> Enrollment:
    """A supervisor reactivates a paused enrollment, or re-enrolls a withdrawn person (one
    enrollment per program, so the same row comes back, with ``enrollment_date`` as its new
    date), onto ``cpss_provider`` (default: the CPSS they had) under the caseload rule."""
    _require_supervisor(actor, "reactivate an enrollment")
    reason = _reason(reason)
    enrollment = _lock(enrollment)
    withdrawn = enrollment.status == ParticipationStatus.WITHDRAWN
    if enrollment.status not in (ParticipationStatus.PAUSED, ParticipationStatus.WITHDRAWN):
        raise ValidationError(
            f"Only a paused or withdrawn enrollment can be reactivated; this one is "
            f"{enrollment.get_status_display().lower()}."
        )
    if withdrawn and enrollment_date is None:
        raise ValidationError({"enrollment_date": "Give the new enrollment date."})
    if withdrawn and enrollment_date > timezone.localdate():
        # Active from a future date, no test could be recorded until then (incentives refuses a
        # test dated before the enrollment).
        raise ValidationError(
            {"enrollment_date": "The new enrollment date cannot be in the future."}
        )
    target = cpss_provider or enrollment.cpss_provider
    if target is None:
        raise ValidationError({"cpss_provider": "Choose the CPSS who takes them on."})
    # Checked on the receiver before anything moves, so a refusal changes nothing.
    cpss_assignment_check(provider=target)
    if enrollment.cpss_provider_id != target.pk:
        enrollment_cpss_reassign(
            enrollment=enrollment, cpss_provider=target, actor=actor, reason=reason
        )
        enrollment = _lock(enrollment)
    fields = ()
    if withdrawn:
        enrollment.enrollment_date = timezone.make_aware(
            datetime.datetime.combine(enrollment_date, datetime.time(12))
        )
        fields = ("enrollment_date",)
    label = "Re-enrolled" if withdrawn else "Reactivated"
    dated = f" (enrollment date {enrollment_date:%b %-d, %Y})" if withdrawn else ""
    return enrollment_status_write(
        enrollment=enrollment,
        to_status=ParticipationStatus.ACTIVE,
        reason=f"{label} by a supervisor{dated}: {reason}",
        actor=actor,
        fields=fields,
    )


def _spare(provider: ProviderCM, active: int) -> float:
    return float("inf") if provider.max_caseload is None else provider.max_caseload - active


@transaction.atomic
def cpss_caseload_move(
    *, from_provider: ProviderCM, to_providers: list[ProviderCM], reason: str, actor
) -> int:
    """Move every active and paused enrollment of a departing CPSS to the receivers, all or
    nothing: active ones go where there is most room (each receiver's limit checked under its
    lock), paused ones in turn. Returns how many moved."""
    _require_supervisor(actor, "move a caseload")
    reason = _reason(reason)
    receivers = [p for p in dict.fromkeys(to_providers) if p.pk != from_provider.pk]
    if not receivers:
        raise ValidationError({"to_providers": "Choose at least one other CPSS to receive them."})
    enrollments = list(
        Enrollment.objects.select_for_update(of=("self",))
        .filter(
            cpss_provider=from_provider,
            status__in=[ParticipationStatus.ACTIVE, ParticipationStatus.PAUSED],
        )
        .order_by("enrollment_date", "id")
    )
    # Receivers locked and counted first, so the all-or-nothing answer says how much room there
    # is; enrollment_cpss_reassign checks each limit again as it moves a patient.
    room = {}
    for provider in receivers:
        provider = ProviderCM.objects.select_for_update().get(pk=provider.pk)
        if provider.status != ProviderCM.Status.ACTIVE:
            raise ValidationError({"to_providers": f"{provider} is inactive."})
        room[provider] = _spare(provider, selectors.cpss_active_count(provider=provider))
    active_moves = [e for e in enrollments if e.status == ParticipationStatus.ACTIVE]
    free = sum(min(r, len(active_moves)) for r in room.values())
    if free < len(active_moves):
        raise ValidationError(
            {
                "to_providers": (
                    f"Not enough room: {len(active_moves)} active enrollments to move, and the "
                    f"chosen CPSS have {int(free)} free places together. Nothing was moved."
                )
            }
        )
    turn = 0
    for enrollment in enrollments:
        if enrollment.status == ParticipationStatus.ACTIVE:
            receiver = max(room, key=lambda p: room[p])
            room[receiver] -= 1
        else:
            receiver = receivers[turn % len(receivers)]
            turn += 1
        enrollment_cpss_reassign(
            enrollment=enrollment, cpss_provider=receiver, actor=actor, reason=reason
        )
    return len(enrollments)
