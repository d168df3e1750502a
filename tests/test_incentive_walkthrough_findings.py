"""Walkthrough of docs/incentives.md through the services: after each scenario the check is
clean, the enrollment's points and streak are what the ledger explains, and the numbers are
the ones the docs give."""

import datetime
import zoneinfo
from io import StringIO
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from cm_program.lifecycle import enrollment_reactivate
from cm_program.models import Enrollment
from cm_program.services import AlreadySubmitted, enrollment_status_change
from incentives import selectors, services
from incentives.models import DrugTest, LedgerEntry, ScheduledVisit
from incentives.schedules import (
    schedule_create,
    schedule_demo_publish,
    schedule_new_version,
    schedule_publish,
    schedule_update,
)
from tests.factories import EnrollmentFactory, ProviderCMFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

DENVER = zoneinfo.ZoneInfo("America/Denver")
WEEKS = [{"first_week": 1, "last_week": 12, "tests_per_week": 2}]


def days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def local(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=DENVER)


@pytest.fixture
def actor():
    return UserFactory()


@pytest.fixture
def supervisor():
    return StaffUserFactory(group="CPSS Supervisor")


@pytest.fixture
def demo(actor):
    return schedule_demo_publish(actor=actor)


def refreshed(enrollment) -> Enrollment:
    return Enrollment.objects.get(pk=enrollment.pk)


def visits(enrollment) -> list[ScheduledVisit]:
    return list(ScheduledVisit.objects.filter(enrollment=enrollment).order_by("week", "slot"))


def planned(enrollment, actor) -> list[ScheduledVisit]:
    services.visits_plan(enrollment=enrollment, actor=actor)
    return visits(enrollment)


def at_noon(day: datetime.date) -> datetime.datetime:
    return local(day.year, day.month, day.day, 12)


def record(enrollment, actor, visit, result, **kwargs):
    return services.drug_test_record(
        enrollment=enrollment,
        actor=actor,
        collected_at=kwargs.pop("collected_at", None) or at_noon(visit.due_date),
        result=result,
        visit=visit,
        **kwargs,
    )


def run_outcomes(enrollment, actor, outcomes):
    """Record outcomes at the enrollment's visits in order; returns the visits."""
    plan = planned(enrollment, actor)
    for visit, outcome in zip(plan, outcomes, strict=False):
        if outcome in ("missed", "excused"):
            services.visit_missed_record(
                visit=visit, actor=actor, excused=outcome == "excused", reason="away"
            )
        else:
            record(enrollment, actor, visit, outcome)
    return plan


def per_visit_points(enrollment) -> list[int]:
    net: dict = {}
    for entry in LedgerEntry.objects.filter(enrollment=enrollment, visit__isnull=False):
        key = (entry.visit.week, entry.visit.slot)
        net[key] = net.get(key, 0) + entry.points
    return [net[key] for key in sorted(net)]


def assert_explained(*enrollments):
    """incentives_check clean; total_points and current_streak are what the ledger says."""
    call_command("incentives_check", stdout=StringIO(), stderr=StringIO())  # CommandError if not
    for enrollment in enrollments:
        enrollment = refreshed(enrollment)
        entries = LedgerEntry.objects.filter(enrollment=enrollment)
        earned = sum(e.points for e in entries if e.account == "earned")
        assert enrollment.total_points == earned
        last = (
            entries.filter(visit__isnull=False)
            .order_by("visit__week", "visit__slot", "created_at", "id")
            .last()
        )
        opening = entries.filter(kind="opening_balance", voided_by__isnull=True).first()
        streak = last.streak_after if last else (opening.streak_after if opening else 0)
        assert enrollment.current_streak == streak


# --- the worked example and the basic outcomes ----------------------------------------------


def test_the_worked_example_earns_173_points(demo, actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(60))
    outcomes = ["negative"] * 4 + ["positive"] + ["negative"] * 3
    run_outcomes(enrollment, actor, outcomes)
    assert per_visit_points(enrollment) == [20, 23, 26, 29, 0, 20, 23, 32]
    assert (refreshed(enrollment).total_points, refreshed(enrollment).current_streak) == (173, 3)
    assert_explained(enrollment)


def test_a_missed_visit_resets_and_recovery_restores_the_level(demo, actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(60))
    run_outcomes(enrollment, actor, ["negative", "negative", "missed", "negative", "negative"])
    # Level 2 remembered at the miss; the 2nd negative after it pays 23 and restores level 2.
    assert per_visit_points(enrollment) == [20, 23, 0, 20, 23]
    assert refreshed(enrollment).current_streak == 2
    assert_explained(enrollment)


def test_an_excused_visit_neither_breaks_nor_counts(demo, actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(60))
    run_outcomes(enrollment, actor, ["negative", "negative", "excused", "negative"])
    assert per_visit_points(enrollment) == [20, 23, 0, 26]
    assert refreshed(enrollment).current_streak == 3
    assert_explained(enrollment)


@pytest.mark.parametrize("result", ["positive", "invalid", "refused"])
def test_a_positive_invalid_or_refused_test_resets(demo, actor, result):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(60))
    run_outcomes(enrollment, actor, ["negative", "negative", result, "negative"])
    assert per_visit_points(enrollment) == [20, 23, 0, 20]
    assert refreshed(enrollment).current_streak == 1
    assert_explained(enrollment)


# --- corrections, hand-overs, voids -----------------------------------------------------------


def test_correcting_the_positive_of_the_worked_example_reprices_later_visits(demo, actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(60))
    run_outcomes(enrollment, actor, ["negative"] * 4 + ["positive"] + ["negative"] * 3)
    positive = DrugTest.objects.get(enrollment=enrollment, result="positive")
    recorded = services.drug_test_correct(
        test=positive, actor=actor, result="negative", reason="Lab: negative"
    )
    assert {e.kind for e in recorded.entries} == {"adjustment"}
    # Eight negatives in a row: 20 + 23 + ... + 41.
    assert per_visit_points(enrollment) == [20, 23, 26, 29, 32, 35, 38, 41]
    assert (refreshed(enrollment).total_points, refreshed(enrollment).current_streak) == (244, 8)
    assert_explained(enrollment)


def test_a_correction_after_a_hand_over_lowers_points_not_what_was_handed_over(demo, actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(60))
    run_outcomes(enrollment, actor, ["negative"] * 3)
    services.incentive_issue(
        enrollment=enrollment, actor=actor, points=69, method="gift_card", reference="GC-1"
    )
    first = DrugTest.objects.filter(enrollment=enrollment).order_by("collected_at").first()
    services.drug_test_correct(test=first, actor=actor, result="positive", reason="Lab")
    # 0, 20, then 23 (recovery restores level 0: nothing to lift).
    assert per_visit_points(enrollment) == [0, 20, 23]
    assert refreshed(enrollment).total_points == 43
    assert selectors.unissued_balance(enrollment_id=enrollment.pk) == 43 - 69
    assert_explained(enrollment)


def test_voiding_an_issue_twice_records_one_void(demo, actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(60))
    run_outcomes(enrollment, actor, ["negative"])
    issued = services.incentive_issue(
        enrollment=enrollment, actor=actor, points=20, method="voucher", reference="V-1"
    )
    first = services.ledger_entry_void(entry=issued, actor=actor, reason="not handed over")
    again = services.ledger_entry_void(entry=issued, actor=actor, reason="not handed over")
    assert first == again
    assert LedgerEntry.objects.filter(kind="void").count() == 1
    assert selectors.unissued_balance(enrollment_id=enrollment.pk) == 20
    assert_explained(enrollment)


def test_a_void_cannot_be_voided(demo, actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(60))
    run_outcomes(enrollment, actor, ["negative"])
    issued = services.incentive_issue(
        enrollment=enrollment, actor=actor, points=20, method="voucher", reference="V-1"
    )
    void = services.ledger_entry_void(entry=issued, actor=actor, reason="error")
    with pytest.raises(ValidationError):
        services.ledger_entry_void(entry=void, actor=actor, reason="undo")


# --- caps ---------------------------------------------------------------------------------


def test_the_demo_cap_is_reached_in_week_15_with_18_points(demo, actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(115))
    plan = run_outcomes(enrollment, actor, ["negative"] * 27)
    assert plan[26].week == 15
    points = per_visit_points(enrollment)
    assert sum(points[:24]) == 43 + 55 + 67 + 79 + 91 + 103 + 106 * 6
    assert points[24:] == [53, 53, 18]  # weeks 13, 14, 15
    assert refreshed(enrollment).total_points == 1198
    record(enrollment, actor, visits(enrollment)[27], "negative", collected_at=days_ago(1))
    assert per_visit_points(enrollment)[27] == 0
    assert_explained(enrollment)


def capped_schedule(actor, **fields):
    draft = schedule_create(
        actor=actor,
        name="Capped",
        weeks=WEEKS,
        base_points=10,
        max_points=10,
        **{"cap_points": 30, **fields},
    )
    return schedule_publish(schedule=draft, actor=actor)


def two_enrollments(days=60):
    first = EnrollmentFactory(enrollment_date=days_ago(days))
    second = EnrollmentFactory(
        enrollment_date=days_ago(days),
        cm_patient=first.cm_patient,
        canonical_patient=first.canonical_patient,
    )
    return first, second


def test_a_cap_per_enrollment_is_not_shared(actor):
    capped_schedule(actor, cap_period="enrollment")
    first, second = two_enrollments()
    run_outcomes(first, actor, ["negative"] * 4)
    run_outcomes(second, actor, ["negative"] * 4)
    assert per_visit_points(first) == per_visit_points(second) == [10, 10, 10, 0]
    assert_explained(first, second)


# --- the clinic's day: midnight, daylight saving, the new year ---------------------------------


def test_a_test_at_local_midnight_belongs_to_that_day(actor):
    capped_schedule(actor, cap_points=10)
    enrollment = EnrollmentFactory(enrollment_date=local(2025, 12, 29, 9))
    plan = planned(enrollment, actor)
    assert [v.due_date for v in plan[:2]] == [
        datetime.date(2025, 12, 29),
        datetime.date(2026, 1, 1),
    ]
    # 23:30 on 31 December in Denver is already 1 January in UTC: it counts for 2025.
    first = record(enrollment, actor, plan[0], "negative", collected_at=local(2025, 12, 31, 23, 30))
    second = record(enrollment, actor, plan[1], "negative", collected_at=local(2026, 1, 1, 0, 0))
    assert first.entries[0].occurred_on == datetime.date(2025, 12, 31)
    assert second.entries[0].occurred_on == datetime.date(2026, 1, 1)
    assert per_visit_points(enrollment) == [10, 10]  # a new year, a new cap
    assert_explained(enrollment)


@pytest.mark.parametrize(
    ("start", "moments", "day"),
    [
        # Daylight saving time starts on 8 March 2026 (02:00 becomes 03:00).
        (local(2026, 3, 1, 9), [(0, 0), (2, 30), (3, 0), (23, 59)], datetime.date(2026, 3, 8)),
        # It ends on 1 November 2026 (01:00-02:00 happens twice).
        (local(2026, 10, 25, 9), [(0, 0), (1, 30), (2, 0), (23, 59)], datetime.date(2026, 11, 1)),
    ],
)
def test_tests_on_the_days_daylight_saving_changes_are_dated_that_day(
    demo, actor, start, moments, day
):
    enrollment = EnrollmentFactory(enrollment_date=start)
    plan = planned(enrollment, actor)
    week2 = [v for v in plan if v.week == 2]
    assert week2[0].due_date == day
    # Each test names its visit: unnamed, the fourth would need a visit not yet due (refused).
    for (hour, minute), visit in zip(moments, plan, strict=False):
        # Naive, as a form gives it: the clinic's zone is assumed.
        naive = datetime.datetime(day.year, day.month, day.day, hour, minute)  # noqa: DTZ001
        recorded = services.drug_test_record(
            enrollment=enrollment, actor=actor, collected_at=naive, result="negative", visit=visit
        )
        assert recorded.test.visit.due_date <= day + datetime.timedelta(days=3)
        assert timezone.localdate(recorded.test.collected_at) == day
        assert recorded.entries[-1].occurred_on == day
    assert_explained(enrollment)


def test_a_test_at_midnight_takes_the_visit_due_that_day(demo, actor):
    enrollment = EnrollmentFactory(enrollment_date=local(2026, 3, 5, 9))
    plan = planned(enrollment, actor)
    assert plan[1].due_date == datetime.date(2026, 3, 8)
    record(enrollment, actor, plan[0], "negative")
    recorded = services.drug_test_record(
        enrollment=enrollment, actor=actor, collected_at=local(2026, 3, 8, 0, 0), result="negative"
    )
    assert recorded.test.visit == plan[1]
    assert_explained(enrollment)


# --- two tests on one day, a test recorded late ----------------------------------------------


def test_a_test_recorded_days_late_is_dated_at_collection(demo, actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(20))
    plan = planned(enrollment, actor)
    recorded = services.drug_test_record(
        enrollment=enrollment, actor=actor, collected_at=days_ago(20), result="negative"
    )
    assert recorded.test.visit == plan[0]
    assert recorded.entries[0].occurred_on == plan[0].due_date
    assert_explained(enrollment)


def test_two_tests_on_one_day_at_one_visit_record_once(demo, actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(20))
    plan = planned(enrollment, actor)
    record(enrollment, actor, plan[0], "negative")
    with pytest.raises(ValidationError, match="already has a test"):
        record(enrollment, actor, plan[0], "negative")
    assert DrugTest.objects.count() == 1
    assert_explained(enrollment)


# --- schedules and the enrollment's life ---------------------------------------------------


def test_a_schedule_published_while_enrolled_moves_only_unpinned_enrollments(demo, actor):
    pinned = EnrollmentFactory(enrollment_date=days_ago(30))
    waiting = EnrollmentFactory(enrollment_date=days_ago(30))
    run_outcomes(pinned, actor, ["negative"])
    newer = schedule_new_version(schedule=demo, actor=actor)
    schedule_update(schedule=newer, actor=actor, base_points=30, max_points=60)
    schedule_publish(schedule=newer, actor=actor)
    record(pinned, actor, visits(pinned)[1], "negative")
    run_outcomes(waiting, actor, ["negative"])
    assert per_visit_points(pinned) == [20, 23]
    assert per_visit_points(waiting) == [30]
    assert_explained(pinned, waiting)


def test_pausing_refuses_tests_and_reactivating_continues_the_streak(demo, actor, supervisor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(30))
    plan = run_outcomes(enrollment, actor, ["negative", "negative"])
    enrollment_status_change(enrollment=enrollment, to_status="paused", reason="trip", actor=actor)
    with pytest.raises(ValidationError, match="paused"):
        record(refreshed(enrollment), actor, plan[2], "negative")
    assert_explained(enrollment)
    enrollment_reactivate(enrollment=refreshed(enrollment), reason="back", actor=supervisor)
    record(refreshed(enrollment), actor, plan[2], "negative")
    assert per_visit_points(enrollment) == [20, 23, 26]
    assert_explained(enrollment)


@pytest.mark.parametrize("status", ["graduated", "withdrawn"])
def test_a_balance_left_at_the_end_can_still_be_handed_over(demo, actor, status):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(30))
    run_outcomes(enrollment, actor, ["negative", "negative"])
    enrollment_status_change(enrollment=enrollment, to_status=status, reason="done", actor=actor)
    assert refreshed(enrollment).total_points == 43
    services.incentive_issue(
        enrollment=refreshed(enrollment), actor=actor, points=43, method="gift_card", reference="x"
    )
    assert selectors.unissued_balance(enrollment_id=enrollment.pk) == 0
    assert refreshed(enrollment).total_points == 43
    assert_explained(enrollment)


# --- double submissions and the append-only ledger -------------------------------------------


def test_a_double_submitted_hand_over_records_once(demo, actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(30))
    run_outcomes(enrollment, actor, ["negative"])
    kwargs = {"points": 5, "method": "gift_card", "reference": "GC", "submission_key": "k-1"}
    services.incentive_issue(enrollment=enrollment, actor=actor, **kwargs)
    with pytest.raises(AlreadySubmitted):
        services.incentive_issue(enrollment=enrollment, actor=actor, **kwargs)
    assert LedgerEntry.objects.filter(kind="issued").count() == 1


def test_a_double_submitted_miss_or_excuse_records_once(demo, actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(30))
    plan = planned(enrollment, actor)
    for excused in (False, False, True, True):
        services.visit_missed_record(visit=plan[0], actor=actor, excused=excused, reason="sick")
    assert LedgerEntry.objects.filter(enrollment=enrollment).count() == 1
    assert_explained(enrollment)


def test_the_truncate_of_the_ledger_is_refused(demo, actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(30))
    run_outcomes(enrollment, actor, ["negative"])
    with (
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE cm_incentive_ledger CASCADE")


def test_no_service_updates_or_deletes_ledger_rows():
    import inspect

    from incentives import services as module

    source = inspect.getsource(module)
    assert ".delete(" not in source
    assert ".update(" not in source


def test_voiding_an_opening_balance_entered_in_error_cancels_its_streak_too(demo, actor):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(60), total_points=100, current_streak=4)
    services.opening_balances_record(enrollment_ids=[enrollment.pk], reason="migrated")
    opening = LedgerEntry.objects.get(enrollment=enrollment, kind="opening_balance")
    services.ledger_entry_void(entry=opening, actor=actor, reason="wrong person")
    run_outcomes(enrollment, actor, ["negative"])
    # Cancelled: the first negative is paid as a first negative (20), not at level 4 (32).
    assert per_visit_points(enrollment) == [20]
    assert (refreshed(enrollment).total_points, refreshed(enrollment).current_streak) == (20, 1)
    assert_explained(enrollment)


def test_two_enrollments_tested_on_the_same_day_share_the_yearly_cap(actor):
    capped_schedule(actor, cap_points=15)
    first, second = two_enrollments()
    run_outcomes(first, actor, ["negative"])
    run_outcomes(second, actor, ["negative"])  # same due date, same day
    assert refreshed(first).total_points + refreshed(second).total_points == 15
    assert_explained(first, second)


def test_a_correction_in_one_enrollment_reprices_the_other_until_both_agree(actor):
    capped_schedule(actor)  # 10 a negative, 30 a year
    first, second = two_enrollments()
    a, b = planned(first, actor), planned(second, actor)
    # Interleaved on different days: first on days 0, 7, 14; second on days 3, 10.
    record(first, actor, a[0], "negative")
    record(second, actor, b[1], "negative")
    record(first, actor, a[2], "negative")
    record(second, actor, b[3], "negative")
    record(first, actor, a[4], "negative")
    assert refreshed(first).total_points + refreshed(second).total_points == 30
    test = DrugTest.objects.get(visit=a[0])
    services.drug_test_correct(test=test, actor=actor, result="positive", reason="Lab")
    assert refreshed(first).total_points + refreshed(second).total_points == 30
    assert_explained(first, second)


def test_a_correction_that_overdraws_the_persons_other_enrollment_reports_it(actor):
    capped_schedule(actor)  # 10 a negative, 30 a year
    first, second = two_enrollments()
    a, b = planned(first, actor), planned(second, actor)
    record(first, actor, a[0], "positive")
    for visit in (b[1], b[3], b[5]):
        record(second, actor, visit, "negative")
    services.incentive_issue(
        enrollment=refreshed(second), actor=actor, points=30, method="voucher", reference="V-1"
    )
    test = DrugTest.objects.get(visit=a[0])
    recorded = services.drug_test_correct(test=test, actor=actor, result="negative", reason="Lab")
    # The first enrollment's 10 now count first against the year's 30: the second keeps 20.
    assert recorded.overdrawn == {second.pk: -10}
    assert_explained(first, second)


def test_the_overdrawn_warning_keeps_quiet_about_another_caseloads_enrollment(actor, client):
    capped_schedule(actor)  # 10 a negative, 30 a year
    first, second = two_enrollments()
    a, b = planned(first, actor), planned(second, actor)
    for visit in (b[1], b[3], b[5]):
        record(second, actor, visit, "negative")
    services.incentive_issue(
        enrollment=refreshed(second), actor=actor, points=30, method="voucher", reference="V-1"
    )
    cpss = StaffUserFactory(group="CPSS")
    Enrollment.objects.filter(pk=first.pk).update(cpss_provider=ProviderCMFactory(user=cpss))
    client.force_login(cpss)
    response = client.post(
        reverse("incentives:visit-record", kwargs={"visit_id": a[0].pk}),
        {"result": "negative", "collected_at": at_noon(a[0].due_date).strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    # The first enrollment's 10 count first against the year's 30: the second is overdrawn,
    # but it is on another caseload, and this CPSS may not learn it exists.
    assert DrugTest.objects.filter(visit=a[0]).exists()
    assert services.selectors.unissued_balance(enrollment_id=second.pk) == -10
    assert "handed over" not in response.content.decode()


# --- re-enrolling a withdrawn person -------------------------------------------------------


def re_enrolled(actor, supervisor, days_since: int) -> tuple[Enrollment, list[ScheduledVisit]]:
    """Two negatives 70 and 67 days ago, withdrawn, re-enrolled ``days_since`` days ago."""
    enrollment = EnrollmentFactory(enrollment_date=days_ago(70))
    plan = run_outcomes(enrollment, actor, ["negative", "negative"])
    enrollment_status_change(
        enrollment=enrollment, to_status="withdrawn", reason="moved", actor=actor
    )
    enrollment_reactivate(
        enrollment=refreshed(enrollment),
        reason="back",
        actor=supervisor,
        enrollment_date=timezone.localdate() - datetime.timedelta(days=days_since),
    )
    return refreshed(enrollment), plan


def test_after_re_enrolling_a_test_takes_a_visit_due_since_the_new_date(demo, actor, supervisor):
    enrollment, plan = re_enrolled(actor, supervisor, days_since=21)
    recorded = services.drug_test_record(
        enrollment=enrollment, actor=actor, collected_at=timezone.now(), result="negative"
    )
    assert recorded.test.visit.due_date == timezone.localdate() - datetime.timedelta(days=21)
    assert_explained(enrollment)


def test_a_visit_due_before_the_re_enrollment_cannot_take_a_test(demo, actor, supervisor):
    enrollment, plan = re_enrolled(actor, supervisor, days_since=21)
    with pytest.raises(ValidationError, match="before the enrollment date"):
        services.drug_test_record(
            enrollment=enrollment,
            actor=actor,
            collected_at=timezone.now(),
            result="negative",
            visit=plan[2],
        )
    assert not DrugTest.objects.filter(visit=plan[2]).exists()


def test_the_day_page_leaves_out_visits_due_before_the_re_enrollment(demo, actor, supervisor):
    enrollment, plan = re_enrolled(actor, supervisor, days_since=21)
    since = timezone.localdate() - datetime.timedelta(days=21)
    due = [v.due_date for v in selectors.visits_due(user=supervisor) if v.enrollment == enrollment]
    assert due and min(due) == since


def test_the_participant_page_offers_no_record_link_on_the_earlier_stays_visits(
    demo, actor, supervisor, client
):
    enrollment, plan = re_enrolled(actor, supervisor, days_since=21)
    client.force_login(supervisor)
    page = client.get(
        reverse("incentives:participant", kwargs={"enrollment_id": enrollment.pk})
    ).content.decode()
    earlier = reverse("incentives:visit-record", kwargs={"visit_id": plan[2].pk})
    assert plan[2].due_date < timezone.localdate() - datetime.timedelta(days=21)
    assert earlier not in page
    assert "Before the re-enrollment" in page


def test_a_visit_due_before_the_re_enrollment_cannot_be_marked_missed(demo, actor, supervisor):
    enrollment, plan = re_enrolled(actor, supervisor, days_since=21)
    # A miss there would reset the streak carried into the new stay and re-price its visits.
    with pytest.raises(ValidationError, match="before the enrollment date"):
        services.visit_missed_record(visit=plan[2], actor=actor, excused=False, reason="")
    assert visits(enrollment)[2].status == "planned"
    assert_explained(enrollment)


def test_a_hand_over_from_an_overdrawn_balance_is_refused_in_words_without_negative_points(
    actor,
):
    capped_schedule(actor)  # 10 a negative, 30 a year
    first, second = two_enrollments()
    a, b = planned(first, actor), planned(second, actor)
    for visit in (b[1], b[3], b[5]):
        record(second, actor, visit, "negative")
    services.incentive_issue(
        enrollment=refreshed(second), actor=actor, points=30, method="voucher", reference="V-1"
    )
    record(first, actor, a[0], "negative")  # the year's first 10 are now the first's
    with pytest.raises(ValidationError) as refused:
        services.incentive_issue(
            enrollment=refreshed(second), actor=actor, points=5, method="voucher", reference="V-2"
        )
    message = " ".join(refused.value.messages)
    assert "-10" not in message
    assert "10 more points were handed over than are earned" in message


# --- visits due during a pause --------------------------------------------------------------


def status_changed(enrollment, actor, to_status: str, days: int) -> None:
    """The status change as the history would hold it had it been made ``days`` ago."""
    with mock.patch("django.utils.timezone.now", return_value=days_ago(days)):
        enrollment_status_change(
            enrollment=refreshed(enrollment), to_status=to_status, reason="away", actor=actor
        )


def paused_and_back(actor) -> tuple[Enrollment, list[ScheduledVisit]]:
    """Enrolled 28 days ago (visits due 28, 25, 21, 18, 14, 11, 7 and 4 days ago and today),
    two negatives, paused 20 days ago and active again 6 days ago: the visits due 18, 14, 11 and
    7 days ago fell due during the pause."""
    enrollment = EnrollmentFactory(enrollment_date=days_ago(28))
    plan = run_outcomes(enrollment, actor, ["negative", "negative"])
    status_changed(enrollment, actor, "paused", 20)
    status_changed(enrollment, actor, "active", 6)
    return refreshed(enrollment), plan


def test_a_visit_due_during_a_pause_cannot_be_marked_missed(demo, actor):
    enrollment, plan = paused_and_back(actor)
    # A miss would reset the streak the person carried through the pause and re-price later
    # visits, though nobody expected them then.
    with pytest.raises(ValidationError, match="paused"):
        services.visit_missed_record(visit=plan[4], actor=actor, excused=False, reason="")
    assert visits(enrollment)[4].status == "planned"
    assert LedgerEntry.objects.filter(enrollment=enrollment).count() == 2
    assert refreshed(enrollment).current_streak == 2


def test_a_visit_due_before_a_pause_can_still_be_marked_missed(demo, actor):
    enrollment, plan = paused_and_back(actor)
    services.visit_missed_record(visit=plan[2], actor=actor, excused=False, reason="")
    assert visits(enrollment)[2].status == "missed"
    assert refreshed(enrollment).current_streak == 0


def test_a_visit_due_after_a_pause_can_still_be_marked_missed(demo, actor):
    enrollment, plan = paused_and_back(actor)
    services.visit_missed_record(visit=plan[7], actor=actor, excused=False, reason="")
    assert visits(enrollment)[7].status == "missed"


def test_a_visit_due_during_a_pause_can_be_excused(demo, actor):
    enrollment, plan = paused_and_back(actor)
    services.visit_missed_record(visit=plan[4], actor=actor, excused=True, reason="On a trip")
    assert visits(enrollment)[4].status == "excused"
    assert_explained(enrollment)


def test_a_visit_due_during_a_pause_can_take_a_test_when_the_person_came(demo, actor):
    enrollment, plan = paused_and_back(actor)
    recorded = record(enrollment, actor, plan[4], "negative", collected_at=timezone.now())
    assert recorded.test.visit == plan[4]
    assert refreshed(enrollment).current_streak == 3


def test_a_test_with_no_visit_named_never_takes_a_visit_due_during_a_pause(demo, actor):
    enrollment, plan = paused_and_back(actor)
    services.visit_missed_record(visit=plan[2], actor=actor, excused=False, reason="")
    recorded = services.drug_test_record(
        enrollment=enrollment, actor=actor, collected_at=timezone.now(), result="negative"
    )
    assert recorded.test.visit == plan[7]


def test_the_day_page_leaves_out_visits_due_during_a_pause(demo, actor, supervisor):
    enrollment, plan = paused_and_back(actor)
    due = [v.pk for v in selectors.visits_due(user=supervisor) if v.enrollment == enrollment]
    assert due == [plan[2].pk, plan[7].pk, plan[8].pk]


def test_a_cpss_change_made_with_the_reactivation_does_not_hide_the_end_of_the_pause(
    demo, actor, supervisor
):
    enrollment = EnrollmentFactory(enrollment_date=days_ago(28))
    plan = run_outcomes(enrollment, actor, ["negative", "negative"])
    status_changed(enrollment, actor, "paused", 20)
    # The reactivation onto another CPSS writes a "CPSS changed" row (paused → paused) in the
    # same transaction, so with the same time, as the paused → active one.
    with mock.patch("django.utils.timezone.now", return_value=days_ago(6)):
        enrollment_reactivate(
            enrollment=refreshed(enrollment),
            reason="back",
            actor=supervisor,
            cpss_provider=ProviderCMFactory(),
        )
    services.visit_missed_record(visit=plan[7], actor=actor, excused=False, reason="")
    assert visits(enrollment)[7].status == "missed"


def test_the_participant_page_offers_a_supervisor_the_excuse_of_a_visit_due_during_a_pause(
    demo, actor, supervisor, client
):
    enrollment, plan = paused_and_back(actor)
    client.force_login(supervisor)
    page = client.get(
        reverse("incentives:participant", kwargs={"enrollment_id": enrollment.pk})
    ).content.decode()
    assert reverse("incentives:visit-excuse", kwargs={"visit_id": plan[4].pk}) in page
    # Not for a visit due before the pause: nothing to forgive until it is marked missed.
    assert reverse("incentives:visit-excuse", kwargs={"visit_id": plan[2].pk}) not in page
    assert "Due while paused" in page
