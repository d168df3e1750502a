"""An enrollment's history as the rules see it, loaded in bulk, and its replay.

The services replay one enrollment after each write; ``incentives_check`` replays thousands
in batches. Both load through ``load_histories`` (a fixed number of queries per batch) and
compute through ``replay_history``, so they cannot disagree.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from django.db.models import Q, Sum
from django.utils import timezone

from cm_program.models import Enrollment
from incentives import rules
from incentives.models import (
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


@dataclass
class VisitOutcome:
    visit_id: object
    week: int
    slot: int
    outcome: str | None  # None: nothing recorded yet (it changes nothing)
    occurred_on: datetime.date
    test_id: object = None


@dataclass
class History:
    enrollment_id: object
    person_id: object
    schedule: IncentiveSchedule | None
    opening_points: int = 0
    opening_level: int = 0
    opening_streak: int = 0
    opening_on: datetime.date | None = None
    visits: list[VisitOutcome] = field(default_factory=list)
    # (date, points) earned by the same person in their other enrollments.
    elsewhere: list[tuple[datetime.date, int]] = field(default_factory=list)


@dataclass
class PricedVisit:
    visit: VisitOutcome
    award: rules.Award


@dataclass
class Replay:
    priced: list[PricedVisit]
    total_points: int
    streak: int
    level: int
    state: rules.State


def _period(schedule: IncentiveSchedule, day: datetime.date):
    if schedule.cap_period == CapPeriod.CALENDAR_YEAR:
        return day.year
    return "enrollment"


def replay_history(history: History, *, extra: Iterable[str] = ()) -> Replay:
    """Replay the recorded outcomes from the opening balance; ``extra`` adds hypothetical
    outcomes after them (what the next visit would earn)."""
    start = rules.State(level=history.opening_level, streak=history.opening_streak)
    schedule = history.schedule
    if schedule is None:
        return Replay([], history.opening_points, start.streak, start.level, start)
    schedule_rules = schedule.rules()
    own: dict[object, int] = defaultdict(int)  # period -> own points so far
    if history.opening_points and history.opening_on is not None:
        own[_period(schedule, history.opening_on)] += history.opening_points
    state, priced, total = start, [], history.opening_points
    today = timezone.localdate()
    pending = [*history.visits, *(VisitOutcome(None, 0, 0, o, today) for o in extra)]
    for visit in pending:
        if visit.outcome is None:
            continue
        period = _period(schedule, visit.occurred_on)
        used = own[period]
        if schedule.cap_period == CapPeriod.CALENDAR_YEAR:
            used += sum(
                points
                for day, points in history.elsewhere
                if day.year == period and day < visit.occurred_on
            )
        award, state = rules.step(schedule_rules, replace(state, earned=used), visit.outcome)
        own[period] += award.points
        total += award.points
        priced.append(PricedVisit(visit, award))
    return Replay(priced, total, state.streak, state.level, state)


def load_histories(enrollment_ids: list) -> dict[object, History]:
    """Histories of these enrollments in six queries, whatever their number."""
    enrollments = dict(
        Enrollment.objects.filter(pk__in=enrollment_ids).values_list("pk", "canonical_patient_id")
    )
    plans = {
        plan.enrollment_id: plan.schedule
        for plan in IncentivePlan.objects.filter(enrollment_id__in=enrollment_ids).select_related(
            "schedule"
        )
    }
    histories = {
        pk: History(enrollment_id=pk, person_id=person, schedule=plans.get(pk))
        for pk, person in enrollments.items()
    }
    _load_openings(histories)
    _load_visits(histories)
    _load_elsewhere(histories)
    return histories


def _load_openings(histories: dict) -> None:
    openings = LedgerEntry.objects.filter(
        enrollment_id__in=list(histories), kind=EntryKind.OPENING_BALANCE
    ).annotate(voided=Sum("voided_by__points"))
    for entry in openings:
        history = histories[entry.enrollment_id]
        history.opening_points = entry.points + (entry.voided or 0)
        history.opening_level = entry.level_after or 0
        history.opening_streak = entry.streak_after or 0
        history.opening_on = entry.occurred_on


def _load_visits(histories: dict) -> None:
    ids = [pk for pk, history in histories.items() if history.schedule is not None]
    if not ids:
        return
    # The test that stands for each visit: the last of its correction chain.
    current_tests = {
        visit_id: (pk, result, collected_at)
        for pk, visit_id, result, collected_at in DrugTest.objects.filter(
            enrollment_id__in=ids, visit__isnull=False, superseded_by__isnull=True
        ).values_list("pk", "visit_id", "result", "collected_at")
    }
    visits = ScheduledVisit.objects.filter(enrollment_id__in=ids).exclude(
        status=VisitStatus.PLANNED
    )
    for visit in visits.order_by("enrollment_id", "week", "slot").values_list(
        "pk", "enrollment_id", "week", "slot", "status", "due_date"
    ):
        pk, enrollment_id, week, slot, status, due_date = visit
        outcome, day, test_id = None, due_date, None
        if status == VisitStatus.ATTENDED and pk in current_tests:
            test_id, outcome, collected_at = current_tests[pk]
            day = timezone.localdate(collected_at)
        elif status == VisitStatus.MISSED:
            outcome = rules.MISSED
        elif status == VisitStatus.EXCUSED:
            outcome = rules.EXCUSED
        histories[enrollment_id].visits.append(VisitOutcome(pk, week, slot, outcome, day, test_id))


def _load_elsewhere(histories: dict) -> None:
    by_person = defaultdict(list)
    for history in histories.values():
        if history.person_id is not None:
            by_person[history.person_id].append(history)
    if not by_person:
        return
    rows = (
        LedgerEntry.objects.filter(
            enrollment__canonical_patient_id__in=list(by_person), account=Account.EARNED
        )
        .values_list("enrollment_id", "enrollment__canonical_patient_id", "occurred_on")
        .annotate(points=Sum("points"))
    )
    for enrollment_id, person_id, day, points in rows:
        for history in by_person[person_id]:
            if history.enrollment_id != enrollment_id:
                history.elsewhere.append((day, points))


def ledger_totals(enrollment_ids: list) -> dict[object, dict[str, int]]:
    """{enrollment id: {"earned": points, "issued": points}} from the ledger."""
    totals = defaultdict(lambda: {Account.EARNED: 0, Account.ISSUED: 0})
    rows = (
        LedgerEntry.objects.filter(enrollment_id__in=enrollment_ids)
        .values_list("enrollment_id", "account")
        .annotate(points=Sum("points"))
    )
    for enrollment_id, account, points in rows:
        totals[enrollment_id][account] = points or 0
    return totals


def visit_entry_totals(enrollment_id) -> dict[object, tuple[int, bool]]:
    """{visit id: (net points of its earned and adjustment entries, has an earned entry)}."""
    totals: dict[object, list] = defaultdict(lambda: [0, False])
    rows = (
        LedgerEntry.objects.filter(
            Q(kind=EntryKind.EARNED) | Q(kind=EntryKind.ADJUSTMENT),
            enrollment_id=enrollment_id,
            visit__isnull=False,
        )
        .values_list("visit_id", "kind")
        .annotate(points=Sum("points"))
    )
    for visit_id, kind, points in rows:
        totals[visit_id][0] += points or 0
        totals[visit_id][1] |= kind == EntryKind.EARNED
    return {k: (v[0], v[1]) for k, v in totals.items()}
