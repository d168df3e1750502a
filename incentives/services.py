"""Every write of the incentives app (the only writers of its tables).

Each service locks the person's enrollments (in id order, so two writers never deadlock),
validates before writing anything, writes, then *reconciles*: replays the enrollment's
recorded outcomes through the rules and posts what the ledger lacks (an earned entry for a newly
recorded visit, an adjustment where a re-priced visit differs, a 0-point adjustment where the
newest entry would state another level or streak than the replay's), and writes
``total_points`` and ``current_streak`` on the enrollment, all in one transaction.
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cm_program.models import Enrollment, ParticipationStatus
from cm_program.services import enrollment_points_set, form_submission_claim
from incentives import rules, selectors
from incentives.history import (
    load_histories,
    newest_stated,
    replay_history,
    visit_entry_totals,
)
from incentives.models import (
    CAP_SHARED_REASON,
    PAYING_KINDS,
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

ISSUE_METHODS = {
    "gift_card": EntryKind.ISSUED,
    "voucher": EntryKind.ISSUED,
    # Points exchanged for an item from the clinic's prize cabinet.
    "prize": EntryKind.REDEEMED,
}
VOIDABLE_KINDS = (EntryKind.OPENING_BALANCE, *PAYING_KINDS)


@dataclass(frozen=True)
class Recorded:
    """What a recording service wrote: the test (if any) and the ledger entries it posted."""

    test: DrugTest | None
    entries: list[LedgerEntry]
    # {enrollment id: unissued balance} of the person's enrollments the write lowered below zero.
    overdrawn: dict = field(default_factory=dict)


def _overdrawn(entries: list[LedgerEntry]) -> dict:
    """{enrollment id: unissued balance} of the enrollments ``entries`` (all a write posted, the
    person's other enrollments' too) lowered below zero: more was handed over than they still
    earn (a correction, a miss, or the cap shared with another enrollment lowered it).

    Not refused: the lab's result stands and a gift card cannot be taken back. The ledger keeps
    both sides, nothing more can be issued until it is earned again, and the page warns whoever
    made the change (the CPSS now holding the enrollment may not be the one who handed the
    points over). One already overdrawn that a later negative test raises is not reported again
    as if the test had caused it."""
    lowered: dict = {}
    for entry in entries:
        lowered[entry.enrollment_id] = lowered.get(entry.enrollment_id, 0) + entry.points
    balances = {
        pk: selectors.unissued_balance(enrollment_id=pk)
        for pk, change in sorted(lowered.items(), key=lambda item: str(item[0]))
        if change < 0
    }
    return {pk: balance for pk, balance in balances.items() if balance < 0}


def _clean(instance) -> None:
    """``full_clean`` of the values only: the foreign keys were just read under a lock, and the
    named constraints hold in the database anyway (checked here they cost a query each, on
    every recording)."""
    relations = [f.name for f in instance._meta.concrete_fields if f.is_relation]
    instance.full_clean(exclude=relations, validate_unique=False, validate_constraints=False)


def _lock(enrollment: Enrollment) -> Enrollment:
    """Lock every enrollment of the person (the cap spans them), return this one fresh."""
    person = enrollment.canonical_patient_id
    same_person = Enrollment.objects.filter(pk=enrollment.pk)
    if person is not None:
        same_person = Enrollment.objects.filter(canonical_patient_id=person)
    locked = {e.pk: e for e in same_person.select_for_update(of=("self",)).order_by("pk")}
    return locked[enrollment.pk]


def _require_active(enrollment: Enrollment, what: str = "tests are recorded") -> None:
    if enrollment.status != ParticipationStatus.ACTIVE:
        status = ParticipationStatus(enrollment.status or "active").label.lower()
        raise ValidationError(f"This enrollment is {status}: {what} only while it is active.")


@transaction.atomic
def visits_plan(*, enrollment: Enrollment, actor, schedule: IncentiveSchedule | None = None):
    """Pin the schedule in force and plan its visits from the enrollment date. Returns the
    existing plan when there is one (the pin never moves)."""
    existing = IncentivePlan.objects.filter(enrollment=enrollment).first()
    if existing is not None:
        return existing
    schedule = schedule or selectors.schedule_in_force(cm_program_id=enrollment.cm_program_id)
    if schedule is None or not schedule.is_published:
        raise ValidationError(
            "No incentive schedule is published for this program; an admin must publish one."
        )
    start = timezone.localdate(enrollment.enrollment_date or timezone.now())
    plan = IncentivePlan(enrollment=enrollment, schedule=schedule, start_date=start)
    plan.created_by = actor
    plan.full_clean()
    plan.save()
    visits = []
    for week, count in enumerate(schedule.tests_per_week(), start=1):
        week_start = start + datetime.timedelta(days=7 * (week - 1))
        for slot in range(1, count + 1):
            # Spread the week's visits evenly: two a week fall on days 0 and 3.
            due = week_start + datetime.timedelta(days=(slot - 1) * 7 // count)
            visits.append(
                ScheduledVisit(
                    enrollment=enrollment, schedule=schedule, week=week, slot=slot, due_date=due
                )
            )
    ScheduledVisit.objects.bulk_create(visits)
    return plan


def _trace(schedule: IncentiveSchedule, award: rules.Award, note: str = "") -> dict:
    words = award.explain()
    if note:
        words = f"{note} {words}"
    return {
        "words": words,
        "schedule": str(schedule),
        "outcome": award.outcome,
        "uncapped_points": award.uncapped_points,
        "points": award.points,
        "capped": award.capped,
        "cap_remaining_before": award.cap_remaining_before,
        "reset": award.reset,
        "recovered": award.recovered,
        "rules": {
            "base_points": schedule.base_points,
            "step_points": schedule.step_points,
            "max_points": schedule.max_points,
            "cap_points": schedule.cap_points,
            "recovery_after": schedule.recovery_after,
            "missed_resets": schedule.missed_resets,
        },
    }


def _reconcile(enrollment: Enrollment, actor, *, why: str = "") -> list[LedgerEntry]:
    history = load_histories([enrollment.pk])[enrollment.pk]
    replayed = replay_history(history)
    posted = visit_entry_totals(enrollment.pk)
    entries = []
    for priced in replayed.priced:
        award, visit = priced.award, priced.visit
        net, has_earned = posted.get(visit.visit_id, (0, False))
        if has_earned and net == award.points:
            continue
        kind = EntryKind.EARNED if not has_earned else EntryKind.ADJUSTMENT
        note = "" if kind == EntryKind.EARNED else f"Re-priced ({why or 'history changed'}):"
        entry = LedgerEntry(
            enrollment=enrollment,
            kind=kind,
            account=Account.EARNED,
            points=award.points - net,
            occurred_on=visit.occurred_on,
            visit_id=visit.visit_id,
            drug_test_id=visit.test_id,
            schedule=history.schedule,
            level_before=award.level_before,
            level_after=award.level,
            streak_before=award.streak_before,
            streak_after=award.streak,
            trace=_trace(history.schedule, award, note),
            reason=why if kind == EntryKind.ADJUSTMENT else "",
            created_by=actor,
        )
        _clean(entry)
        entries.append(entry)
    restated = _restatement(enrollment, actor, history, replayed, entries, why=why)
    if restated is not None:
        entries.append(restated)
    LedgerEntry.objects.bulk_create(entries)
    enrollment_points_set(
        enrollment=enrollment, total_points=replayed.total_points, current_streak=replayed.streak
    )
    return entries


def _restatement(enrollment, actor, history, replayed, entries, *, why: str):
    """A 0-point adjustment restating level and streak where the newest entry (the last of
    ``entries``, else the ledger's) states others: the ledger explains ``current_streak`` too.

    A re-pricing can change them and no points (an excused miss between capped negatives),
    or change points only up to a visit whose own entry stays (a reset after it)."""
    if entries:
        stated = (entries[-1].level_after, entries[-1].streak_after)
    else:
        stated = newest_stated([enrollment.pk]).get(enrollment.pk, (0, 0))
    if stated == (replayed.level, replayed.streak):
        return None
    level_before, streak_before = stated
    last = replayed.priced[-1].visit if replayed.priced else None
    words = (
        f"Restated ({why or 'history changed'}): 0 points; level {level_before} → "
        f"{replayed.level}, streak {streak_before} → {replayed.streak}."
    )
    entry = LedgerEntry(
        enrollment=enrollment,
        kind=EntryKind.ADJUSTMENT,
        account=Account.EARNED,
        points=0,
        occurred_on=last.occurred_on if last else timezone.localdate(),
        visit_id=last.visit_id if last else None,
        drug_test_id=last.test_id if last else None,
        schedule=history.schedule,
        level_before=level_before,
        level_after=replayed.level,
        streak_before=streak_before,
        streak_after=replayed.streak,
        trace={"words": words, "schedule": str(history.schedule or "")},
        reason=why or "history changed",
        created_by=actor,
    )
    _clean(entry)
    return entry


def _reconcile_person(
    enrollment: Enrollment, actor, *, why: str = "", posted_elsewhere: list | None = None
) -> list[LedgerEntry]:
    """This enrollment, then the person's others whose calendar-year cap counts its points,
    again until a pass posts nothing. Returns this enrollment's entries; the others' are added
    to ``posted_elsewhere`` when given."""
    entries = _reconcile(enrollment, actor, why=why)
    if enrollment.canonical_patient_id is None:
        return entries
    others = Enrollment.objects.filter(
        canonical_patient_id=enrollment.canonical_patient_id,
        incentive_plan__schedule__cap_points__isnull=False,
        incentive_plan__schedule__cap_period=CapPeriod.CALENDAR_YEAR,
    ).exclude(pk=enrollment.pk)
    others = list(others.order_by("pk"))
    # The others' adjustments are marked as the shared cap's, whatever happened here: the pages
    # tell a CPSS who cannot see this enrollment only that the cap moved.
    elsewhere = f"{CAP_SHARED_REASON}: {why}" if why else CAP_SHARED_REASON
    # Re-pricing another enrollment moves what counts against this one's cap on later days,
    # and back. A day's award depends only on earlier days (and lower ids that day), so each
    # pass settles at least one more day and the passes end.
    while others:
        posted = [e for other in others for e in _reconcile(other, actor, why=elsewhere)]
        if not posted:
            break
        if posted_elsewhere is not None:
            posted_elsewhere.extend(posted)
        entries += _reconcile(enrollment, actor, why=why or CAP_SHARED_REASON)
    return entries


def _check_result(result) -> None:
    if result not in rules.TEST_RESULTS:
        raise ValidationError(
            {"result": f"A result is one of {', '.join(rules.TEST_RESULTS)}, not {result!r}."}
        )


def _clean_collected_at(enrollment: Enrollment, collected_at) -> datetime.datetime:
    if not isinstance(collected_at, datetime.datetime):
        raise ValidationError({"collected_at": "Give the date and time the specimen was taken."})
    if timezone.is_naive(collected_at):
        collected_at = timezone.make_aware(collected_at)
    if collected_at > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"collected_at": "A test cannot be dated in the future."})
    enrolled = enrollment.enrollment_date
    if enrolled is not None and timezone.localdate(collected_at) < timezone.localdate(enrolled):
        raise ValidationError(
            {"collected_at": "This test is dated before the person was enrolled."}
        )
    return collected_at


def _clean_analytes(analytes, result: str, targets: list[str]) -> dict:
    analytes = dict(analytes or {})
    for name, value in analytes.items():
        if value not in (rules.NEGATIVE, rules.POSITIVE):
            raise ValidationError(
                {"analytes": f"{name}: a result is 'negative' or 'positive', not {value!r}."}
            )
    positive_targets = [n for n in targets if analytes.get(n) == rules.POSITIVE]
    if result == rules.NEGATIVE and positive_targets:
        raise ValidationError(
            {
                "result": "The test is positive for "
                f"{', '.join(positive_targets)}: it cannot be recorded as negative."
            }
        )
    return analytes


def _recorded(test: DrugTest | None, enrollment: Enrollment, actor, *, why: str = "") -> Recorded:
    """Reconcile the person after a write, and report it: this enrollment's entries, and the
    enrollments the write lowered below zero (the person's others' included)."""
    elsewhere: list[LedgerEntry] = []
    entries = _reconcile_person(enrollment, actor, why=why, posted_elsewhere=elsewhere)
    return Recorded(test, entries, _overdrawn(entries + elsewhere))


def _open_visit(enrollment, visit: ScheduledVisit | None, day: datetime.date) -> ScheduledVisit:
    # Re-enrolling a withdrawn person keeps the row and its plan under a new enrollment date:
    # visits due before that date belong to the earlier stay, and a test now is not theirs.
    enrolled = enrollment.enrolled_on
    if visit is not None:
        visit = ScheduledVisit.objects.select_for_update().get(pk=visit.pk)
        if visit.enrollment_id != enrollment.pk:
            raise ValidationError({"visit": "That visit belongs to another enrollment."})
        if enrolled and visit.due_date < enrolled:
            raise ValidationError(
                {
                    "visit": f"This visit was due {visit.due_date:%b %-d, %Y}, before the "
                    f"enrollment date ({enrolled:%b %-d, %Y}): it cannot take a test."
                }
            )
        if DrugTest.objects.filter(visit=visit).exists():
            raise ValidationError({"visit": "This visit already has a test result."})
        if visit.status != VisitStatus.PLANNED:
            raise ValidationError({"visit": f"This visit is already recorded as {visit.status}."})
        return visit
    # No visit named: the earliest open one due by that day. Never a later one: a second test
    # the same day would silently take a visit not yet due, and the person's next test would
    # find it filled.
    open_visits = ScheduledVisit.objects.filter(
        enrollment=enrollment, status=VisitStatus.PLANNED
    ).order_by("week", "slot")
    if enrolled:
        open_visits = open_visits.filter(due_date__gte=enrolled)
    # Nor one due during a pause: nobody expected the person then; the caller may name it.
    chosen = selectors.outside_pauses(open_visits.filter(due_date__lte=day)).first()
    if chosen is None:
        if not open_visits.exists():
            raise ValidationError(
                {"visit": "Every scheduled visit of this enrollment is recorded."}
            )
        raise ValidationError(
            {
                "visit": f"No visit due by {day:%b %-d, %Y} is open: choose the visit this "
                "test is for (on the participant's page)."
            }
        )
    return ScheduledVisit.objects.select_for_update().get(pk=chosen.pk)


@transaction.atomic
def drug_test_record(
    *,
    enrollment: Enrollment,
    actor,
    collected_at: datetime.datetime,
    result: str,
    analytes: dict | None = None,
    visit: ScheduledVisit | None = None,
    specimen_valid: bool = True,
    collected_by=None,
) -> Recorded:
    """Record a test at a scheduled visit (the earliest open one due by that day by default)
    and post what it earns. Refuses (ValidationError, nothing written) an unknown result, a
    date in the future or before enrollment, a visit that already has a result, an enrollment
    not active, no visit named when none is due and open by that day."""
    _check_result(result)
    enrollment = _lock(enrollment)
    _require_active(enrollment)
    collected_at = _clean_collected_at(enrollment, collected_at)
    plan = visits_plan(enrollment=enrollment, actor=actor)
    analytes = _clean_analytes(analytes, result, plan.schedule.target_analytes)
    visit = _open_visit(enrollment, visit, timezone.localdate(collected_at))
    test = DrugTest(
        enrollment=enrollment,
        visit=visit,
        collected_at=collected_at,
        collected_by=collected_by or actor,
        specimen_valid=specimen_valid and result != rules.INVALID,
        analytes=analytes,
        result=result,
        entered_by=actor,
    )
    _clean(test)
    try:
        with transaction.atomic():
            test.save()
    except IntegrityError as exc:  # a concurrent entry for the same visit won
        raise ValidationError({"visit": "This visit already has a test result."}) from exc
    visit.status = VisitStatus.ATTENDED
    visit.marked_by, visit.marked_at = actor, timezone.now()
    _clean(visit)
    visit.save(update_fields=["status", "marked_by", "marked_at", "updated_at"])
    return _recorded(test, enrollment, actor)


@transaction.atomic
def visit_missed_record(*, visit: ScheduledVisit, actor, excused: bool, reason: str) -> Recorded:
    """Mark a visit missed, or excused (with a reason). Excusing a visit already marked missed
    is how a supervisor forgives it; later visits are re-priced. Marking one missed is refused
    (ValidationError, nothing written) while the enrollment is not active, or when it was due
    before the enrollment date (a re-enrolled person's earlier stay)."""
    reason = (reason or "").strip()
    if excused and not reason:
        raise ValidationError({"reason": "Give the reason the visit is excused."})
    enrollment = _lock(visit.enrollment)
    visit = ScheduledVisit.objects.select_for_update().get(pk=visit.pk)
    target = VisitStatus.EXCUSED if excused else VisitStatus.MISSED
    if visit.status == target:
        return Recorded(None, [])
    if not excused:
        # A miss resets the streak: a person paused or finished is not expected at visits.
        # Excusing stays open, so a supervisor can still forgive visits due meanwhile.
        _require_active(enrollment, "a visit is marked missed")
        # A re-enrolled person's earlier-stay visit: a miss there would reset the streak the
        # new stay carries on and re-price its visits.
        enrolled = enrollment.enrolled_on
        if enrolled and visit.due_date < enrolled:
            raise ValidationError(
                f"This visit was due {visit.due_date:%b %-d, %Y}, before the enrollment date "
                f"({enrolled:%b %-d, %Y}): it cannot be marked missed."
            )
        # Nobody expected the person while paused: a miss then would reset the streak they
        # carried through the pause. A supervisor may excuse the visit instead.
        pause = selectors.pause_on(enrollment_id=enrollment.pk, day=visit.due_date)
        if pause is not None:
            paused_on, active_on = pause
            until = f" until {active_on:%b %-d, %Y}" if active_on else ""
            raise ValidationError(
                f"This visit was due {visit.due_date:%b %-d, %Y}, while the enrollment was "
                f"paused (from {paused_on:%b %-d, %Y}{until}): it cannot be marked missed; "
                "a supervisor can excuse it."
            )
    if visit.status == VisitStatus.ATTENDED or DrugTest.objects.filter(visit=visit).exists():
        raise ValidationError("This visit has a test result; correct the test instead.")
    if visit.status == VisitStatus.EXCUSED:
        raise ValidationError("This visit is already excused.")
    if visit.due_date > timezone.localdate():
        raise ValidationError("A visit cannot be missed before its due date.")
    visit.status, visit.reason = target, reason
    visit.marked_by, visit.marked_at = actor, timezone.now()
    visit.full_clean()
    visit.save(update_fields=["status", "reason", "marked_by", "marked_at", "updated_at"])
    why = f"visit of week {visit.week} {target}" + (f": {reason}" if reason else "")
    return _recorded(None, enrollment, actor, why=why)


@transaction.atomic
def drug_test_correct(*, test: DrugTest, actor, result: str, reason: str) -> Recorded:
    """A lab confirmation overturning a result: a new test superseding the old one (nothing is
    edited), then later visits re-priced, the differences posted as adjustments."""
    _check_result(result)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for the correction (e.g. lab report)."})
    enrollment = _lock(test.enrollment)
    current = DrugTest.objects.get(pk=test.pk)
    while hasattr(current, "superseded_by"):
        current = current.superseded_by
    if current.result == result:
        return Recorded(current, [])
    correction = DrugTest(
        enrollment=enrollment,
        visit_id=current.visit_id,
        collected_at=current.collected_at,
        collected_by=current.collected_by,
        specimen_valid=result != rules.INVALID,
        analytes=current.analytes if result == rules.POSITIVE else {},
        result=result,
        supersedes=current,
        reason=reason,
        entered_by=actor,
    )
    correction.full_clean()
    correction.save()
    why = f"test of {timezone.localdate(current.collected_at)} corrected to {result}: {reason}"
    return _recorded(correction, enrollment, actor, why=why)


@transaction.atomic
def incentive_issue(
    *,
    enrollment: Enrollment,
    actor,
    points: int,
    method: str,
    reference: str,
    submission_key: str | None = None,
) -> LedgerEntry:
    """A gift card or voucher handed over (or a prize): never more than the unissued balance.
    ``submission_key``: the form's one-time key (cm_program.services.AlreadySubmitted if used)."""
    if method not in ISSUE_METHODS:
        raise ValidationError({"method": f"A method is one of {', '.join(ISSUE_METHODS)}."})
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise ValidationError({"points": "Issue a whole number of points, more than 0."})
    enrollment = _lock(enrollment)
    form_submission_claim(key=submission_key, actor=actor)
    balance = selectors.unissued_balance(enrollment_id=enrollment.pk)
    if balance < 0:
        # A correction or the shared cap took back points already handed over.
        raise ValidationError(
            {
                "points": f"Nothing can be handed over: {-balance} more points were handed over "
                "than are earned. They must be earned back first."
            }
        )
    if points > balance:
        raise ValidationError(
            {"points": f"Only {balance} points are earned and not yet issued; {points} is more."}
        )
    plan = IncentivePlan.objects.filter(enrollment=enrollment).select_related("schedule").first()
    entry = LedgerEntry(
        enrollment=enrollment,
        kind=ISSUE_METHODS[method],
        account=Account.ISSUED,
        points=points,
        occurred_on=timezone.localdate(),
        schedule=plan.schedule if plan else None,
        method=method,
        reference=(reference or "").strip(),
        created_by=actor,
    )
    entry.trace = {
        "words": f"{points} points handed over ({entry.method_in_words}); balance {balance} before."
    }
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def ledger_entry_void(*, entry: LedgerEntry, actor, reason: str) -> LedgerEntry:
    """Cancel an opening balance, issue or redemption entered in error, by a counter-entry.

    Earned points follow from the tests: to change them, correct the test or excuse the visit.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for voiding this entry."})
    enrollment = _lock(entry.enrollment)
    entry = LedgerEntry.objects.get(pk=entry.pk)
    if hasattr(entry, "voided_by"):
        return entry.voided_by
    if entry.kind not in VOIDABLE_KINDS:
        raise ValidationError(
            "Earned points follow from the tests: correct the test or excuse the visit instead."
        )
    if entry.account == Account.EARNED:
        issued_after = selectors.unissued_balance(enrollment_id=enrollment.pk) - entry.points
        if issued_after < 0:
            raise ValidationError("These points were already issued; void the issue first.")
    void = LedgerEntry(
        enrollment=enrollment,
        kind=EntryKind.VOID,
        account=entry.account,
        points=-entry.points,
        occurred_on=entry.occurred_on,
        schedule=entry.schedule,
        voids=entry,
        reason=reason,
        trace={"words": f"Voids the {entry.get_kind_display().lower()} entry: {reason}"},
        created_by=actor,
    )
    void.full_clean()
    void.save()
    if entry.account == Account.EARNED:
        _reconcile_person(enrollment, actor, why=reason)
    return void


@transaction.atomic
def opening_balances_record(*, enrollment_ids: list, actor=None, reason: str) -> int:
    """An opening-balance entry for each enrollment's points and streak as they stand (legacy
    migration): the replay starts from it, with level = the streak. Enrollments with nothing
    to carry over, or with an opening balance already, are skipped. Returns entries written."""
    had = set(
        LedgerEntry.objects.filter(
            enrollment_id__in=enrollment_ids, kind=EntryKind.OPENING_BALANCE
        ).values_list("enrollment_id", flat=True)
    )
    today = timezone.localdate()
    entries = [
        LedgerEntry(
            enrollment_id=pk,
            kind=EntryKind.OPENING_BALANCE,
            account=Account.EARNED,
            points=points or 0,
            occurred_on=timezone.localdate(enrolled) if enrolled else today,
            level_before=0,
            level_after=max(streak or 0, 0),
            streak_before=0,
            streak_after=max(streak or 0, 0),
            reason=reason,
            trace={
                "words": f"Opening balance: {points or 0} points and a streak of {streak or 0} "
                f"carried over ({reason})."
            },
            created_by=actor,
        )
        for pk, points, streak, enrolled in Enrollment.objects.filter(
            pk__in=enrollment_ids
        ).values_list("pk", "total_points", "current_streak", "enrollment_date")
        if pk not in had and (points or streak)
    ]
    LedgerEntry.objects.bulk_create(entries, batch_size=2000)
    return len(entries)
