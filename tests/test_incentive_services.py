"""incentives.services: tests recorded, visits missed, corrections, issues, the ledger."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cm_program.models import Enrollment
from cm_program.services import enrollment_status_change
from incentives import selectors, services
from incentives.models import DrugTest, IncentiveSchedule, LedgerEntry, ScheduledVisit
from incentives.schedules import schedule_create, schedule_publish, schedule_update
from tests.factories import EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db

WEEKS = [{"first_week": 1, "last_week": 4, "tests_per_week": 2}]


def days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


@pytest.fixture
def actor():
    return UserFactory()


@pytest.fixture
def schedule(actor):
    draft = schedule_create(
        actor=actor,
        name="Test schedule",
        weeks=WEEKS,
        base_points=10,
        step_points=5,
        max_points=30,
        recovery_after=2,
    )
    return schedule_publish(schedule=draft, actor=actor)


@pytest.fixture
def enrollment(schedule):
    return EnrollmentFactory(enrollment_date=days_ago(28))


def record(enrollment, actor, result, days, **kwargs):
    return services.drug_test_record(
        enrollment=enrollment, actor=actor, collected_at=days_ago(days), result=result, **kwargs
    )


def refreshed(enrollment) -> Enrollment:
    return Enrollment.objects.get(pk=enrollment.pk)


def test_a_negative_test_earns_the_base_award_and_updates_the_enrollment(enrollment, actor):
    recorded = record(enrollment, actor, "negative", 27)
    assert [(e.kind, e.points) for e in recorded.entries] == [("earned", 10)]
    enrollment = refreshed(enrollment)
    assert (enrollment.total_points, enrollment.current_streak) == (10, 1)


def test_the_first_test_pins_the_schedule_and_plans_the_visits(enrollment, actor, schedule):
    record(enrollment, actor, "negative", 27)
    assert enrollment.incentive_plan.schedule == schedule
    assert ScheduledVisit.objects.filter(enrollment=enrollment).count() == 8


def test_a_later_schedule_does_not_move_the_pin(enrollment, actor, schedule):
    record(enrollment, actor, "negative", 27)
    newer = schedule_create(actor=actor, name="Newer", weeks=WEEKS, base_points=50, max_points=50)
    schedule_publish(schedule=newer, actor=actor)
    recorded = record(enrollment, actor, "negative", 24)
    assert recorded.entries[0].schedule == schedule


def test_the_ledger_entry_explains_its_calculation(enrollment, actor):
    record(enrollment, actor, "negative", 27)
    entry = record(enrollment, actor, "negative", 24).entries[0]
    assert (entry.level_before, entry.level_after, entry.streak_before, entry.streak_after) == (
        1,
        2,
        1,
        2,
    )
    assert "Negative at level 1: 15 points" in entry.trace["words"]


def test_a_positive_earns_nothing_and_resets_the_streak(enrollment, actor):
    record(enrollment, actor, "negative", 27)
    recorded = record(enrollment, actor, "positive", 24)
    assert recorded.entries[0].points == 0
    assert refreshed(enrollment).current_streak == 0


@pytest.mark.parametrize("result", ["dilute", "", None])
def test_a_result_outside_the_list_is_refused(enrollment, actor, result):
    with pytest.raises(ValidationError):
        record(enrollment, actor, result, 27)
    assert not DrugTest.objects.exists()


def test_a_test_dated_in_the_future_is_refused(enrollment, actor):
    with pytest.raises(ValidationError, match="future"):
        record(enrollment, actor, "negative", -2)
    assert not LedgerEntry.objects.exists()


def test_a_test_dated_before_enrollment_is_refused(enrollment, actor):
    with pytest.raises(ValidationError, match="before the person was enrolled"):
        record(enrollment, actor, "negative", 40)
    assert not ScheduledVisit.objects.exists()


def test_a_second_test_for_one_visit_is_refused(enrollment, actor):
    first = record(enrollment, actor, "negative", 27)
    with pytest.raises(ValidationError, match="already has a test"):
        record(enrollment, actor, "negative", 26, visit=first.test.visit)
    assert DrugTest.objects.count() == 1


@pytest.mark.parametrize("status", ["paused", "graduated", "withdrawn"])
def test_a_test_on_an_enrollment_not_active_is_refused(schedule, actor, status):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(28), status=status)
    with pytest.raises(ValidationError, match=f"is {status}"):
        record(enrollment, actor, "negative", 27)


def test_without_a_published_schedule_nothing_is_recorded(actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(28))
    with pytest.raises(ValidationError, match="No incentive schedule"):
        record(enrollment, actor, "negative", 27)


def test_a_negative_with_a_positive_stimulant_is_refused(enrollment, actor):
    with pytest.raises(ValidationError, match="cocaine"):
        record(enrollment, actor, "negative", 27, analytes={"cocaine": "positive"})


def test_other_drugs_do_not_matter(enrollment, actor):
    recorded = record(enrollment, actor, "negative", 27, analytes={"opiates": "positive"})
    assert recorded.entries[0].points == 10


def test_a_missed_visit_resets_and_is_in_the_ledger(enrollment, actor):
    record(enrollment, actor, "negative", 27)
    visit = ScheduledVisit.objects.get(enrollment=enrollment, week=1, slot=2)
    recorded = services.visit_missed_record(visit=visit, actor=actor, excused=False, reason="")
    assert [(e.kind, e.points, e.streak_after) for e in recorded.entries] == [("earned", 0, 0)]
    assert refreshed(enrollment).current_streak == 0


def test_a_visit_cannot_be_marked_missed_while_the_enrollment_is_paused(enrollment, actor):
    record(enrollment, actor, "negative", 27)
    enrollment_status_change(enrollment=enrollment, to_status="paused", reason="trip", actor=actor)
    visit = ScheduledVisit.objects.get(enrollment=enrollment, week=1, slot=2)
    with pytest.raises(ValidationError, match="paused"):
        services.visit_missed_record(visit=visit, actor=actor, excused=False, reason="")
    assert ScheduledVisit.objects.get(pk=visit.pk).status == "planned"
    assert LedgerEntry.objects.filter(enrollment=enrollment).count() == 1
    assert refreshed(enrollment).current_streak == 1


def test_a_visit_can_still_be_excused_while_the_enrollment_is_paused(enrollment, actor):
    record(enrollment, actor, "negative", 27)
    enrollment_status_change(enrollment=enrollment, to_status="paused", reason="trip", actor=actor)
    visit = ScheduledVisit.objects.get(enrollment=enrollment, week=1, slot=2)
    services.visit_missed_record(visit=visit, actor=actor, excused=True, reason="On the trip")
    assert ScheduledVisit.objects.get(pk=visit.pk).status == "excused"


def test_excusing_a_missed_visit_reprices_later_visits_by_adjustment(enrollment, actor):
    record(enrollment, actor, "negative", 27)
    visit = ScheduledVisit.objects.get(enrollment=enrollment, week=1, slot=2)
    services.visit_missed_record(visit=visit, actor=actor, excused=False, reason="")
    record(enrollment, actor, "negative", 21)  # level 0 after the miss: 10
    recorded = services.visit_missed_record(
        visit=visit, actor=actor, excused=True, reason="In hospital"
    )
    # Excused: the later negative was at level 1 after all: 15, so +5.
    assert [(e.kind, e.points) for e in recorded.entries] == [("adjustment", 5)]
    assert refreshed(enrollment).total_points == 25


def test_excusing_a_missed_visit_restates_the_streak_when_the_points_stay_capped(actor):
    capped = schedule_create(
        actor=actor, name="Capped", weeks=WEEKS, base_points=10, max_points=10, cap_points=20
    )
    schedule_publish(schedule=capped, actor=actor)
    enrollment = EnrollmentFactory(enrollment_date=days_ago(28))
    record(enrollment, actor, "negative", 27)
    record(enrollment, actor, "negative", 24)  # the cap is reached: every later negative earns 0
    missed = ScheduledVisit.objects.get(enrollment=enrollment, week=2, slot=1)
    services.visit_missed_record(visit=missed, actor=actor, excused=False, reason="")
    record(enrollment, actor, "negative", 18)
    record(enrollment, actor, "negative", 14)
    services.visit_missed_record(visit=missed, actor=actor, excused=True, reason="In hospital")
    assert refreshed(enrollment).current_streak == 4
    newest = LedgerEntry.objects.filter(enrollment=enrollment).last()
    assert (newest.kind, newest.points, newest.streak_before, newest.streak_after) == (
        "adjustment",
        0,
        2,
        4,
    )


def test_an_excuse_needs_a_reason(enrollment, actor):
    record(enrollment, actor, "negative", 27)
    visit = ScheduledVisit.objects.get(enrollment=enrollment, week=1, slot=2)
    with pytest.raises(ValidationError, match="reason"):
        services.visit_missed_record(visit=visit, actor=actor, excused=True, reason=" ")


def test_a_second_test_on_one_day_without_a_visit_named_is_refused(enrollment, actor):
    record(enrollment, actor, "negative", 27)  # fills the visit due 28 days ago
    with pytest.raises(ValidationError, match="choose the visit"):
        record(enrollment, actor, "negative", 27)
    assert DrugTest.objects.filter(enrollment=enrollment).count() == 1
    assert ScheduledVisit.objects.get(enrollment=enrollment, week=1, slot=2).status == "planned"


def test_a_test_may_name_a_visit_not_yet_due(enrollment, actor):
    record(enrollment, actor, "negative", 27)
    visit = ScheduledVisit.objects.get(enrollment=enrollment, week=1, slot=2)  # due in 2 days
    assert record(enrollment, actor, "negative", 27, visit=visit).test.visit == visit


def test_a_correction_supersedes_the_test_and_reprices_later_visits(enrollment, actor):
    first = record(enrollment, actor, "negative", 27).test
    record(enrollment, actor, "negative", 24)
    record(enrollment, actor, "negative", 21)
    recorded = services.drug_test_correct(
        test=first, actor=actor, result="positive", reason="Lab confirmation"
    )
    assert recorded.test.supersedes == first
    # 10 + 15 + 20 becomes 0 + 10 + 15 (recovery after 2 lifts to the level before the reset,
    # 0): the first loses 10, the others 5 each.
    assert sorted(e.points for e in recorded.entries) == [-10, -5, -5]
    assert {e.kind for e in recorded.entries} == {"adjustment"}
    assert refreshed(enrollment).total_points == 25
    assert DrugTest.objects.get(pk=first.pk).result == "negative"  # never edited


def test_a_correction_repricing_visits_before_a_reset_restates_the_streak(enrollment, actor):
    first = record(enrollment, actor, "negative", 27).test
    record(enrollment, actor, "negative", 24)
    record(enrollment, actor, "positive", 21)
    recorded = services.drug_test_correct(
        test=first, actor=actor, result="positive", reason="Lab confirmation"
    )
    # The second visit's adjustment ends at streak 1; the positive after it still resets to 0.
    assert [(e.points, e.streak_after) for e in recorded.entries] == [(-10, 0), (-5, 1), (0, 0)]
    newest = LedgerEntry.objects.filter(enrollment=enrollment).last()
    assert newest.streak_after == refreshed(enrollment).current_streak == 0


def test_the_same_correction_twice_writes_nothing(enrollment, actor):
    first = record(enrollment, actor, "negative", 27).test
    services.drug_test_correct(test=first, actor=actor, result="positive", reason="Lab")
    again = services.drug_test_correct(test=first, actor=actor, result="positive", reason="Lab")
    assert again.entries == []
    assert DrugTest.objects.count() == 2


def test_a_correction_below_what_was_handed_over_reports_the_overdrawn_balance(enrollment, actor):
    first = record(enrollment, actor, "negative", 27).test
    record(enrollment, actor, "negative", 24)
    services.incentive_issue(
        enrollment=enrollment, actor=actor, points=25, method="gift_card", reference="GC-1"
    )
    recorded = services.drug_test_correct(test=first, actor=actor, result="positive", reason="Lab")
    # 10 + 15 becomes 0 + 10: 10 earned, 25 handed over.
    assert recorded.overdrawn == {enrollment.pk: -15}


def test_a_correction_that_leaves_the_balance_covered_reports_nothing(enrollment, actor):
    first = record(enrollment, actor, "negative", 27).test
    record(enrollment, actor, "negative", 24)
    services.incentive_issue(
        enrollment=enrollment, actor=actor, points=10, method="gift_card", reference="GC-1"
    )
    recorded = services.drug_test_correct(test=first, actor=actor, result="positive", reason="Lab")
    assert recorded.overdrawn == {}


def test_a_write_that_raises_an_overdrawn_balance_reports_nothing(enrollment, actor):
    first = record(enrollment, actor, "negative", 27).test
    second = record(enrollment, actor, "negative", 24).test
    services.incentive_issue(
        enrollment=enrollment, actor=actor, points=25, method="gift_card", reference="GC-1"
    )
    for test in (first, second):
        services.drug_test_correct(test=test, actor=actor, result="positive", reason="Lab")
    # Still overdrawn after the next negative, but this write earned points: not its doing.
    recorded = record(enrollment, actor, "negative", 21)
    assert sum(entry.points for entry in recorded.entries) > 0
    assert selectors.unissued_balance(enrollment_id=enrollment.pk) < 0
    assert recorded.overdrawn == {}


def test_issuing_lowers_the_unissued_balance_not_the_points(enrollment, actor):
    record(enrollment, actor, "negative", 27)
    record(enrollment, actor, "negative", 24)
    services.incentive_issue(
        enrollment=enrollment, actor=actor, points=20, method="gift_card", reference="GC-1"
    )
    assert refreshed(enrollment).total_points == 25
    assert selectors.unissued_balance(enrollment_id=enrollment.pk) == 5


def test_issuing_more_than_the_balance_is_refused(enrollment, actor):
    record(enrollment, actor, "negative", 27)
    with pytest.raises(ValidationError, match="Only 10 points"):
        services.incentive_issue(
            enrollment=enrollment, actor=actor, points=11, method="voucher", reference="V-1"
        )
    assert LedgerEntry.objects.filter(kind="issued").count() == 0


def test_voiding_an_issue_restores_the_balance(enrollment, actor):
    record(enrollment, actor, "negative", 27)
    issued = services.incentive_issue(
        enrollment=enrollment, actor=actor, points=10, method="gift_card", reference="GC-2"
    )
    services.ledger_entry_void(entry=issued, actor=actor, reason="Card not handed over")
    assert selectors.unissued_balance(enrollment_id=enrollment.pk) == 10


def test_earned_entries_cannot_be_voided(enrollment, actor):
    entry = record(enrollment, actor, "negative", 27).entries[0]
    with pytest.raises(ValidationError, match="correct the test"):
        services.ledger_entry_void(entry=entry, actor=actor, reason="Oops")


def test_the_cap_counts_the_persons_other_enrollments(actor):
    capped = schedule_create(
        actor=actor, name="Capped", weeks=WEEKS, base_points=10, max_points=10, cap_points=15
    )
    schedule_publish(schedule=capped, actor=actor)
    first = EnrollmentFactory(enrollment_date=days_ago(28))
    second = EnrollmentFactory(
        enrollment_date=days_ago(28),
        cm_patient=first.cm_patient,
        canonical_patient=first.canonical_patient,
    )
    record(first, actor, "negative", 27)
    entry = record(second, actor, "negative", 20).entries[0]
    assert entry.points == 5 and entry.trace["capped"]


def test_opening_balance_starts_the_replay(schedule, actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(28), total_points=100, current_streak=2)
    assert services.opening_balances_record(enrollment_ids=[enrollment.pk], reason="migrated") == 1
    recorded = record(enrollment, actor, "negative", 27)
    assert recorded.entries[0].points == 20  # level 2: 10 + 5 * 2
    assert refreshed(enrollment).total_points == 120


def test_the_ledger_refuses_update_and_delete_in_the_database(enrollment, actor):
    entry = record(enrollment, actor, "negative", 27).entries[0]
    for sql in (
        "UPDATE cm_incentive_ledger SET points = 99 WHERE id = %s",
        "DELETE FROM cm_incentive_ledger WHERE id = %s",
        "UPDATE cm_drug_tests SET result = 'positive' WHERE enrollment_id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk if "ledger" in sql else enrollment.pk])


def test_the_database_numbers_an_entry_another_client_writes_after_the_earlier_ones(
    enrollment, actor
):
    earlier = record(enrollment, actor, "negative", 27).entries[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cm_incentive_ledger (enrollment_id, kind, account, points, occurred_on)"
            " VALUES (%s, 'issued', 'issued', 1, current_date) RETURNING seq",
            [enrollment.pk],
        )
        (seq,) = cursor.fetchone()
    assert seq > earlier.seq


def test_a_published_schedule_cannot_be_edited(schedule, actor):
    with pytest.raises(ValidationError, match="published"):
        schedule_update(schedule=schedule, actor=actor, base_points=11)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        IncentiveSchedule.objects.filter(pk=schedule.pk).update(base_points=11)


def test_a_cap_below_one_award_is_refused(actor):
    with pytest.raises(ValidationError, match="below one award"):
        schedule_create(
            actor=actor, name="Bad", weeks=WEEKS, base_points=10, max_points=20, cap_points=15
        )
    assert not IncentiveSchedule.objects.exists()


def test_every_incentive_table_is_in_the_audit_history(enrollment, actor):
    from audit.models import (
        DrugTestEvent,
        IncentivePlanEvent,
        IncentiveScheduleEvent,
        LedgerEntryEvent,
        ScheduledVisitEvent,
    )

    record(enrollment, actor, "negative", 27)
    for model in (
        DrugTestEvent,
        IncentivePlanEvent,
        IncentiveScheduleEvent,
        LedgerEntryEvent,
        ScheduledVisitEvent,
    ):
        assert model.objects.exists(), model.__name__
