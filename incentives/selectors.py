"""Reads of the incentives app. Every patient read is scoped by ``visible_to(user)``."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, TextField, Value
from django.db.models.functions import Coalesce, TruncDate, TruncWeek
from django.utils import timezone

from cm_program.models import Enrollment, EnrollmentStatusChange, ParticipationStatus
from incentives import rules
from incentives.history import load_histories, replay_history
from incentives.models import (
    CAP_SHARED_REASON,
    Account,
    CapPeriod,
    DrugTest,
    EntryKind,
    IncentivePlan,
    IncentiveSchedule,
    LedgerEntry,
    ScheduledVisit,
    VisitStatus,
)


def schedule_in_force(*, cm_program_id) -> IncentiveSchedule | None:
    """The latest published version for the program, else the clinic's latest default."""
    published = IncentiveSchedule.objects.filter(published_at__isnull=False)
    return (
        published.filter(cm_program_id=cm_program_id).order_by("-published_at").first()
        or published.filter(cm_program__isnull=True).order_by("-published_at").first()
    )


def unissued_balance(*, enrollment_id) -> int:
    totals = dict(
        LedgerEntry.objects.filter(enrollment_id=enrollment_id)
        .values_list("account")
        .annotate(points=Sum("points"))
    )
    return (totals.get(Account.EARNED) or 0) - (totals.get(Account.ISSUED) or 0)


def _status_changes_on_or_before(enrollment_id, day):
    """The enrollment's status history up to the end of ``day``, newest first, without the
    rows of a change of CPSS (from == to): they move no status, and a reactivation onto
    another CPSS writes one in the same transaction, so at the same time, as the change to
    active."""
    return (
        EnrollmentStatusChange.objects.filter(
            enrollment_id=enrollment_id, changed_at__date__lte=day
        )
        .exclude(from_status=F("to_status"))
        .order_by("-changed_at")
    )


def _status_then():
    """A visit's enrollment status at the end of its due day, as one subquery ("" when the
    history begins after the due date: enrollments older than it, no pause)."""
    newest = _status_changes_on_or_before(OuterRef("enrollment_id"), OuterRef("due_date"))
    return Coalesce(Subquery(newest.values("to_status")[:1]), Value(""), output_field=TextField())


def outside_pauses(visits):
    """``visits`` without those due on a day that ended with their enrollment paused: nobody
    expected the person then, so such a visit is neither due nor missed (a supervisor may
    excuse it). One subquery, not a query per visit."""
    return visits.alias(status_then=_status_then()).exclude(status_then=ParticipationStatus.PAUSED)


def pause_on(*, enrollment_id, day: datetime.date):
    """(paused on, active again on or None) of the pause ``day`` ended in, else None."""
    start = _status_changes_on_or_before(enrollment_id, day).first()
    if start is None or start.to_status != ParticipationStatus.PAUSED:
        return None
    end = (
        EnrollmentStatusChange.objects.filter(
            enrollment_id=enrollment_id, changed_at__gt=start.changed_at
        )
        .exclude(to_status=ParticipationStatus.PAUSED)
        .order_by("changed_at")
        .first()
    )
    return (
        timezone.localdate(start.changed_at),
        timezone.localdate(end.changed_at) if end else None,
    )


def visits_due(*, user, day: datetime.date | None = None):
    """Open visits due on ``day`` (today) or before, of active enrollments the user may see;
    not those due before the enrollment date (a re-enrolled person's earlier stay) nor those
    due while the enrollment was paused."""
    day = day or timezone.localdate()
    return (
        outside_pauses(ScheduledVisit.objects.visible_to(user))
        .filter(
            Q(enrollment__enrollment_date__isnull=True)
            | Q(due_date__gte=TruncDate("enrollment__enrollment_date")),
            status=VisitStatus.PLANNED,
            due_date__lte=day,
            enrollment__status=ParticipationStatus.ACTIVE,
        )
        .select_related("enrollment__canonical_patient", "enrollment__cm_program")
        .order_by("due_date", "enrollment__canonical_patient__last_name", "week", "slot")
    )


def visible_enrollment(*, user, enrollment_id) -> Enrollment | None:
    return (
        Enrollment.objects.visible_to(user)
        .select_related("canonical_patient", "cm_program", "cpss_provider")
        .filter(pk=enrollment_id)
        .first()
    )


@dataclass(frozen=True)
class Outlook:
    """Where the participant stands and what the next visit would earn or reset."""

    schedule: IncentiveSchedule | None
    level: int
    streak: int
    total_points: int
    unissued: int
    next_negative: rules.Award | None
    next_positive: rules.Award | None
    cap_used: int | None
    cap_points: int | None

    @property
    def cap_left(self) -> int | None:
        if self.cap_points is None or self.cap_used is None:
            return None
        return max(self.cap_points - self.cap_used, 0)


def outlook(*, enrollment: Enrollment) -> Outlook:
    """Replays the enrollment as recorded, then a hypothetical next negative and positive."""
    history = load_histories([enrollment.pk])[enrollment.pk]
    if history.schedule is None:
        history.schedule = schedule_in_force(cm_program_id=enrollment.cm_program_id)
    now = replay_history(history)
    negative = positive = None
    cap_used = None
    if history.schedule is not None:
        negative = replay_history(history, extra=[rules.NEGATIVE]).priced[-1].award
        positive = replay_history(history, extra=[rules.POSITIVE]).priced[-1].award
        if history.schedule.cap_points is not None:
            cap_used = history.schedule.cap_points - (negative.cap_remaining_before or 0)
    return Outlook(
        schedule=history.schedule,
        level=now.level,
        streak=now.streak,
        total_points=now.total_points,
        unissued=unissued_balance(enrollment_id=enrollment.pk),
        next_negative=negative,
        next_positive=positive,
        cap_used=cap_used,
        cap_points=history.schedule.cap_points if history.schedule else None,
    )


def ledger(*, enrollment: Enrollment):
    return (
        LedgerEntry.objects.filter(enrollment=enrollment)
        .select_related("visit", "drug_test", "created_by", "voided_by")
        .order_by("seq")
    )


def sees_whole_cap(*, user, enrollment: Enrollment) -> bool:
    """Whether the user may see every enrollment whose points count against this one's cap.

    A calendar-year cap spans the person's enrollments, which may sit on other caseloads: how
    much of it they used, and why they were re-priced, is for those who see them (supervisors,
    or a CPSS with each on their own caseload)."""
    if enrollment.canonical_patient_id is None:
        return True
    unseen = Enrollment.objects.filter(
        canonical_patient_id=enrollment.canonical_patient_id
    ).exclude(pk__in=Enrollment.objects.visible_to(user).values("pk"))
    return not unseen.exists()


CAP_SHARED_WORDS = "Re-priced: this year's points cap moved what this visit earns."


def ledger_shown(*, enrollment: Enrollment, whole_cap: bool) -> list[LedgerEntry]:
    """The ledger with each entry's words (``how``). Without ``whole_cap``, an adjustment made
    because another enrollment moved the shared cap says only that, not what happened there
    (a test result, a correction's reason)."""
    entries = list(ledger(enrollment=enrollment))
    for entry in entries:
        entry.how = entry.trace_words
        if (
            not whole_cap
            and entry.kind == EntryKind.ADJUSTMENT
            and entry.reason.startswith(CAP_SHARED_REASON)
        ):
            entry.how = CAP_SHARED_WORDS
    return entries


def visits(*, enrollment: Enrollment):
    """The enrollment's visits, each with ``status_then``: its status at the end of the due day
    ("paused": the visit fell due during a pause, for a supervisor to excuse)."""
    return (
        ScheduledVisit.objects.filter(enrollment=enrollment)
        .annotate(status_then=_status_then())
        .order_by("week", "slot")
    )


def tests(*, enrollment: Enrollment):
    return (
        DrugTest.objects.filter(enrollment=enrollment)
        .select_related("visit", "entered_by", "supersedes")
        .order_by("collected_at", "entered_at")
    )


def plan_of(*, enrollment: Enrollment) -> IncentivePlan | None:
    return IncentivePlan.objects.filter(enrollment=enrollment).select_related("schedule").first()


def schedules():
    return IncentiveSchedule.objects.select_related("cm_program").order_by("name", "-version")


def cap_period_label(schedule: IncentiveSchedule | None) -> str:
    if schedule is None:
        return ""
    return (
        f"calendar year {timezone.localdate().year}"
        if schedule.cap_period == CapPeriod.CALENDAR_YEAR
        else "this enrollment"
    )


def week_rows(*, user, cm_program_id=None, since: datetime.date | None = None) -> list[dict]:
    """Per program and week (Monday): enrolled, visits due, tests done, share negative, points
    earned and issued, dollars. Only the enrollments the user may see."""
    enrollments = Enrollment.objects.visible_to(user)
    if cm_program_id:
        enrollments = enrollments.filter(cm_program_id=cm_program_id)
    since = since or timezone.localdate() - datetime.timedelta(weeks=12)
    ids = enrollments.values("pk")

    def by_week(queryset, date_field, since_lookup, **aggregates):
        return {
            (row["enrollment__cm_program__name"], _as_date(row["week_of"])): row
            for row in queryset.filter(enrollment__in=ids, **{since_lookup: since})
            .annotate(week_of=TruncWeek(date_field))
            .values("enrollment__cm_program__name", "week_of")
            .annotate(**aggregates)
        }

    visits_due_rows = by_week(
        ScheduledVisit.objects.filter(due_date__lte=timezone.localdate()),
        "due_date",
        "due_date__gte",
        due=Count("pk"),
    )
    tests_rows = by_week(
        DrugTest.objects.current(),
        "collected_at",
        "collected_at__date__gte",
        tests=Count("pk"),
        negative=Count("pk", filter=Q(result=rules.NEGATIVE)),
    )
    points_rows = by_week(
        LedgerEntry.objects.all(),
        "occurred_on",
        "occurred_on__gte",
        earned=Sum("points", filter=Q(account=Account.EARNED)),
        issued=Sum("points", filter=Q(account=Account.ISSUED)),
    )
    cents = _cents_per_point()
    keys = sorted(set(visits_due_rows) | set(tests_rows) | set(points_rows))
    enrolled = dict(
        enrollments.values("cm_program__name")
        .annotate(n=Count("pk", filter=Q(status=ParticipationStatus.ACTIVE)))
        .values_list("cm_program__name", "n")
    )
    rows = []
    for program, week in keys:
        tests_row = tests_rows.get((program, week), {})
        points_row = points_rows.get((program, week), {})
        done = tests_row.get("tests", 0)
        issued = points_row.get("issued") or 0
        rows.append(
            {
                "program": program,
                "week": week,
                "enrolled": enrolled.get(program, 0),
                "visits_due": visits_due_rows.get((program, week), {}).get("due", 0),
                "tests": done,
                "share_negative": (
                    round(100 * tests_row.get("negative", 0) / done) if done else None
                ),
                "earned": points_row.get("earned") or 0,
                "issued": issued,
                "dollars_issued": issued * cents / 100,
            }
        )
    return rows


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def _cents_per_point() -> int:
    """The point value reports use: the latest published schedule's (the clinic keeps one)."""
    latest = (
        IncentiveSchedule.objects.filter(published_at__isnull=False)
        .order_by("-published_at")
        .first()
    )
    return latest.cents_per_point if latest else 0
