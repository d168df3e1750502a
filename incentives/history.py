"""An enrollment's history as the rules see it, loaded in bulk, and its replay.

The services replay one enrollment after each write; ``incentives_check`` replays thousands
in batches. Both load through ``load_histories`` (a fixed number of queries per batch) and
compute through ``replay_history``, so they cannot disagree.
"""

import datetime
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import accumulate

from django.db.models import Count, DateField, Q, Sum
from django.db.models.functions import Cast, TruncDate
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
    # (date, points, counts that day too) earned by the same person in their other enrollments.
    elsewhere: list[tuple[datetime.date, int, bool]] = field(default_factory=list)


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


class _EarnedElsewhere:
    """Points the person earned in their other enrollments in a calendar year before a day.

    Summed once per year in date order and looked up by bisection: summing the entries again
    for every visit cost incentives_check a pass over ~90 entries per visit for each person with
    two enrollments.

    An entry ``(day, points, True)`` counts on its own day too: two enrollments tested on one
    day would otherwise each see the other's points as not yet earned and both be paid in full
    past the cap, so the enrollment with the lower id goes first that day."""

    def __init__(self, entries: list[tuple[datetime.date, int, bool]]):
        by_year: dict[int, list[tuple[tuple[datetime.date, int], int]]] = defaultdict(list)
        for day, points, counts_that_day in entries:
            # Sorted and bisected on (day, 0 or 1): (day, 0) falls before (day, 1), the key a
            # lookup for that day bisects on.
            by_year[day.year].append(((day, 0 if counts_that_day else 1), points))
        self._keys: dict[int, list[tuple[datetime.date, int]]] = {}
        self._running: dict[int, list[int]] = {}  # [0, points of the first day, ...]
        for year, year_entries in by_year.items():
            year_entries.sort(key=lambda entry: entry[0])
            self._keys[year] = [key for key, _ in year_entries]
            self._running[year] = [0, *accumulate(points for _, points in year_entries)]

    def before(self, day: datetime.date) -> int:
        """The points earned elsewhere from 1 January of ``day``'s year to the day before (and
        on the day itself, for entries that count that day too)."""
        keys = self._keys.get(day.year)
        if not keys:
            return 0
        return self._running[day.year][bisect_left(keys, (day, 1))]


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
    earned_elsewhere = _EarnedElsewhere(history.elsewhere)
    for visit in pending:
        if visit.outcome is None:
            continue
        period = _period(schedule, visit.occurred_on)
        used = own[period]
        if schedule.cap_period == CapPeriod.CALENDAR_YEAR:
            used += earned_elsewhere.before(visit.occurred_on)
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
    # A voided opening balance was entered in error: neither its points nor its level and
    # streak carry over (the void cancels its points in the ledger).
    openings = LedgerEntry.objects.filter(
        enrollment_id__in=list(histories),
        kind=EntryKind.OPENING_BALANCE,
        voided_by__isnull=True,
    )
    for entry in openings:
        history = histories[entry.enrollment_id]
        history.opening_points = entry.points
        history.opening_level = entry.level_after or 0
        history.opening_streak = entry.streak_after or 0
        history.opening_on = entry.occurred_on


def _load_visits(histories: dict) -> None:
    ids = [pk for pk, history in histories.items() if history.schedule is not None]
    if not ids:
        return
    # The test that stands for each visit: the last of its correction chain. Its day is the
    # local date of its collection, as timezone.localdate gives it, computed by the database:
    # converting ~100,000 timestamps a batch in Python was a third of incentives_check. (Cast
    # to a date, a date already: TruncDate alone converts each value again in Python.)
    current_tests = {
        visit_id: (pk, result, collected_on)
        for pk, visit_id, result, collected_on in DrugTest.objects.current()
        .filter(enrollment_id__in=ids, visit__isnull=False)
        # Unordered: the model's order joins the enrollments and sorts ~80,000 rows a batch.
        .order_by()
        .values_list("pk", "visit_id", "result", Cast(TruncDate("collected_at"), DateField()))
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
            test_id, outcome, day = current_tests[pk]
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
    # Only people with another enrollment have points elsewhere: most have one, and reading
    # their own entries only to skip them was a quarter of incentives_check.
    with_another = (
        Enrollment.objects.filter(canonical_patient_id__in=list(by_person))
        .values("canonical_patient_id")
        .annotate(enrollments=Count("pk"))
        .filter(enrollments__gt=1)
        .values("canonical_patient_id")
    )
    rows = (
        LedgerEntry.objects.filter(
            enrollment__canonical_patient_id__in=with_another, account=Account.EARNED
        )
        .values_list("enrollment_id", "enrollment__canonical_patient_id", "occurred_on")
        .annotate(points=Sum("points"))
    )
    for enrollment_id, person_id, day, points in rows:
        for history in by_person[person_id]:
            if history.enrollment_id != enrollment_id:
                history.elsewhere.append((day, points, enrollment_id < history.enrollment_id))


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


def newest_stated(enrollment_ids: list) -> dict[object, tuple[int, int]]:
    """{enrollment id: (level_after, streak_after) of its newest entry that states them}.

    Issues, redemptions and voids state no streak; an enrollment without such an entry is
    missing (its streak is 0)."""
    rows = (
        LedgerEntry.objects.filter(enrollment_id__in=enrollment_ids, streak_after__isnull=False)
        .order_by("enrollment_id", "-seq")
        .distinct("enrollment_id")
        .values_list("enrollment_id", "level_after", "streak_after")
    )
    return {pk: (level or 0, streak) for pk, level, streak in rows}


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
