"""Every write of the incentives app (the only writers of its tables).

Each service locks the person's enrollments (in id order, so two writers never deadlock),
validates before writing anything, writes, then *reconciles*: replays the enrollment's
recorded outcomes through the rules and posts what the ledger lacks (an earned entry for a newly
recorded visit, an adjustment where a re-priced visit differs), and writes ``total_points`` and
``current_streak`` on the enrollment, all in one transaction.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cm_program.models import Enrollment, ParticipationStatus
from cm_program.services import enrollment_points_set, form_submission_claim
from incentives import rules, selectors
from incentives.history import load_histories, replay_history, visit_entry_totals
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


def _require_active(enrollment: Enrollment) -> None:
    if enrollment.status != ParticipationStatus.ACTIVE:
        status = ParticipationStatus(enrollment.status or "active").label.lower()
        raise ValidationError(
            f"This enrollment is {status}: tests are recorded only while it is active."
        )


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
    LedgerEntry.objects.bulk_create(entries)
    enrollment_points_set(
        enrollment=enrollment, total_points=replayed.total_points, current_streak=replayed.streak
    )
    return entries


def _reconcile_person(enrollment: Enrollment, actor, *, why: str = "") -> list[LedgerEntry]:
    """This enrollment, then the person's others whose calendar-year cap counts its points,
    again until a pass posts nothing."""
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


def _open_visit(enrollment, visit: ScheduledVisit | None, day: datetime.date) -> ScheduledVisit:
    if visit is not None:
        visit = ScheduledVisit.objects.select_for_update().get(pk=visit.pk)
        if visit.enrollment_id != enrollment.pk:
            raise ValidationError({"visit": "That visit belongs to another enrollment."})
        if DrugTest.objects.filter(visit=visit).exists():
            raise ValidationError({"visit": "This visit already has a test result."})
        if visit.status != VisitStatus.PLANNED:
            raise ValidationError({"visit": f"This visit is already recorded as {visit.status}."})
        return visit
    # No visit named: the earliest open one due by that day, else the next one.
    open_visits = ScheduledVisit.objects.filter(
        enrollment=enrollment, status=VisitStatus.PLANNED
    ).order_by("week", "slot")
    chosen = open_visits.filter(due_date__lte=day).first() or open_visits.first()
    if chosen is None:
        raise ValidationError({"visit": "Every scheduled visit of this enrollment is recorded."})
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
    """Record a test at a scheduled visit (the earliest open one by default) and post what it
    earns. Refuses (ValidationError, nothing written) an unknown result, a date in the future
    or before enrollment, a visit that already has a result, an enrollment not active."""
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
    return Recorded(test, _reconcile_person(enrollment, actor))


@transaction.atomic
def visit_missed_record(*, visit: ScheduledVisit, actor, excused: bool, reason: str) -> Recorded:
    """Mark a visit missed, or excused (with a reason). Excusing a visit already marked missed
    is how a supervisor forgives it; later visits are re-priced."""
    reason = (reason or "").strip()
    if excused and not reason:
        raise ValidationError({"reason": "Give the reason the visit is excused."})
    enrollment = _lock(visit.enrollment)
    visit = ScheduledVisit.objects.select_for_update().get(pk=visit.pk)
    target = VisitStatus.EXCUSED if excused else VisitStatus.MISSED
    if visit.status == target:
        return Recorded(None, [])
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
    return Recorded(None, _reconcile_person(enrollment, actor, why=why))


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
    return Recorded(correction, _reconcile_person(enrollment, actor, why=why))


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
