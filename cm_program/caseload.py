"""Reads for the home page: a caseload at a glance and what needs attention (issue 12, #15).

Scoped like every CM read by ``visible_to(user)``: a CPSS sees their own caseload, a supervisor
and an admin every enrollment.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from cm_program.models import (
    Enrollment,
    EnrollmentStatusChange,
    ParticipationStatus,
    SupervisorRequest,
)

PAUSED_ALERT_DAYS = 14
ALERT_ROWS = 20  # rows listed per alert; the count says how many in all
OPEN_STATUSES = (ParticipationStatus.ACTIVE, ParticipationStatus.PAUSED)


@dataclass(frozen=True)
class Alert:
    title: str
    total: int
    enrollments: list


@dataclass(frozen=True)
class Caseload:
    counts: list  # (status label, count), in the statuses' order
    alerts: list  # Alert


def _rows(queryset):
    return list(
        queryset.select_related("canonical_patient", "cm_program", "cpss_provider")[:ALERT_ROWS]
    )


def caseload_summary(*, user, now: datetime.datetime | None = None) -> Caseload:
    """Counts by status, enrollments paused longer than PAUSED_ALERT_DAYS (since their last
    change to paused; enrollments paused before the history began count from their last update)
    and open enrollments whose CM record has no consent date."""
    enrollments = Enrollment.objects.visible_to(user)
    by_status = dict(
        enrollments.order_by().values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    counts = [(label, by_status.get(value, 0)) for value, label in ParticipationStatus.choices]
    paused_at = (
        EnrollmentStatusChange.objects.filter(
            enrollment=OuterRef("pk"), to_status=ParticipationStatus.PAUSED
        )
        .order_by()
        .values("enrollment")
        .annotate(last=Max("changed_at"))
        .values("last")
    )
    cutoff = (now or timezone.now()) - datetime.timedelta(days=PAUSED_ALERT_DAYS)
    paused_long = (
        enrollments.filter(status=ParticipationStatus.PAUSED)
        .annotate(paused_since=Coalesce(Subquery(paused_at), "updated_at"))
        .filter(paused_since__lt=cutoff)
        .order_by("paused_since", "id")
    )
    no_consent = enrollments.filter(
        cm_patient__consent_date__isnull=True, status__in=OPEN_STATUSES
    ).order_by("canonical_patient__last_name", "canonical_patient__first_name", "id")
    alerts = [
        Alert(
            f"Paused longer than {PAUSED_ALERT_DAYS} days", paused_long.count(), _rows(paused_long)
        ),
        Alert("Enrolled without a consent date", no_consent.count(), _rows(no_consent)),
    ]
    return Caseload(counts=counts, alerts=alerts)


def recent_status_changes(*, limit: int = 10):
    """The latest status changes, whoever made them (the admin's home)."""
    return list(
        EnrollmentStatusChange.objects.select_related(
            "enrollment__canonical_patient", "enrollment__cm_program", "changed_by"
        ).order_by("-changed_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class SentRequest:
    """A request the user sent to a supervisor, as their home lists it."""

    name: str
    kind: str
    status: str
    requested_at: datetime.datetime
    decided_at: datetime.datetime | None
    canonical_patient_id: object  # the person's page, when the user may see it; else None
    # The person the row names or links (for the page-view log): a reactivation names its
    # person even once they have left the user's caseload.
    shown_patient_id: object = None
    # The IntakeQ patient the row names (a request made from an IntakeQ record), for the log.
    shown_intakeq_patient_id: object = None


def requests_sent(*, user, limit: int = 10) -> list[SentRequest]:
    """The user's latest requests to a supervisor, newest first, and how each was decided.

    Names what the user typed or the IntakeQ record they picked (an enrollment request) or the
    person they asked about (a reactivation), never the person a supervisor matched them to; the
    person's page is linked only when it is on a caseload the user may see. The supervisor's
    note is not shown.
    """
    sent = list(
        SupervisorRequest.objects.filter(requested_by=user)
        .select_related("enrollment__canonical_patient", "intakeq_patient")
        .order_by("-requested_at")[:limit]
    )
    visible = set(
        Enrollment.objects.visible_to(user)
        .filter(pk__in=[r.enrollment_id for r in sent if r.enrollment_id])
        .values_list("pk", flat=True)
    )
    rows = []
    for request in sent:
        person = request.enrollment.canonical_patient if request.enrollment_id else None
        typed = f"{request.first_name} {request.last_name}".strip()
        linked = person.pk if request.enrollment_id in visible else None
        shown = linked
        # A request made from an IntakeQ record (Scenario 2) holds the record picked, not names.
        picked = request.intakeq_patient if not typed else None
        if picked is not None:
            typed = f"{picked.first_name} {picked.last_name}"
        if request.kind == SupervisorRequest.Kind.REACTIVATION and person is not None:
            typed = f"{person.first_name} {person.last_name}"
            shown = person.pk
        rows.append(
            SentRequest(
                name=typed,
                kind=request.get_kind_display(),
                status=request.get_status_display(),
                requested_at=request.requested_at,
                decided_at=request.decided_at,
                canonical_patient_id=linked,
                shown_patient_id=shown,
                shown_intakeq_patient_id=picked.pk if picked is not None else None,
            )
        )
    return rows
