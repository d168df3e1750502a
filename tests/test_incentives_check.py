"""manage.py incentives_check: exits 0 with a count when all agree, 1 with the ids otherwise."""

import datetime
import gc
import random
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cm_program.models import Enrollment
from incentives import services
from incentives.consistency import _collector_paused
from incentives.history import _EarnedElsewhere
from incentives.models import LedgerEntry
from incentives.schedules import schedule_create, schedule_demo_publish, schedule_publish
from tests.factories import EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def run():
    out = StringIO()
    call_command("incentives_check", stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def recorded():
    actor = UserFactory()
    schedule_demo_publish(actor=actor)
    enrollment = EnrollmentFactory(enrollment_date=timezone.now() - datetime.timedelta(days=20))
    for days in (19, 16, 12):
        services.drug_test_record(
            enrollment=enrollment,
            actor=actor,
            collected_at=timezone.now() - datetime.timedelta(days=days),
            result="negative",
        )
    return enrollment


def test_check_passes_with_a_count(recorded):
    assert "All 1 enrollments match" in run()


def test_check_lists_an_enrollment_whose_points_were_changed_behind_its_back(recorded):
    Enrollment.objects.filter(pk=recorded.pk).update(total_points=999)
    with pytest.raises(CommandError) as caught:
        run()
    assert caught.value.returncode == 1


def test_check_lists_an_enrollment_whose_newest_entry_states_another_streak(recorded):
    newest = LedgerEntry.objects.filter(enrollment=recorded).last()
    # As another client might write it: no points, so totals and replay still agree.
    LedgerEntry.objects.create(
        enrollment=recorded,
        kind="adjustment",
        account="earned",
        points=0,
        occurred_on=newest.occurred_on,
        visit=newest.visit,
        streak_before=newest.streak_after,
        streak_after=newest.streak_after + 5,
        reason="written by hand",
    )
    with pytest.raises(CommandError):
        run()


def test_check_prints_only_ids(recorded):
    other = EnrollmentFactory(total_points=5)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("incentives_check", stdout=out, stderr=StringIO())
    assert out.getvalue().split() == [str(other.pk)]


def test_an_opening_balance_makes_migrated_points_check_clean():
    enrollment = EnrollmentFactory(total_points=240, current_streak=6)
    services.opening_balances_record(enrollment_ids=[enrollment.pk], reason="migrated")
    assert "All 1 enrollments match" in run()


def test_the_demo_checks_clean(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    assert Enrollment.objects.filter(total_points__gt=0).count() >= 4
    assert "All 6 enrollments match" in run()


def test_a_corrected_test_is_checked_as_corrected(recorded):
    before = Enrollment.objects.get(pk=recorded.pk).total_points
    first = recorded.drug_tests.order_by("collected_at").first()
    services.drug_test_correct(
        test=first, actor=UserFactory(), result="positive", reason="lab report"
    )
    assert Enrollment.objects.get(pk=recorded.pk).total_points != before
    assert "All 1 enrollments match" in run()
    Enrollment.objects.filter(pk=recorded.pk).update(total_points=before)  # as if uncorrected
    with pytest.raises(CommandError):
        run()


def test_a_persons_other_enrollment_counts_towards_the_cap():
    actor = UserFactory()
    capped = schedule_create(
        actor=actor,
        name="Capped",
        weeks=[{"first_week": 1, "last_week": 4, "tests_per_week": 2}],
        base_points=10,
        max_points=10,
        cap_points=15,
    )
    schedule_publish(schedule=capped, actor=actor)
    started = timezone.now() - datetime.timedelta(days=28)
    first = EnrollmentFactory(enrollment_date=started)
    second = EnrollmentFactory(
        enrollment_date=started,
        cm_patient=first.cm_patient,
        canonical_patient=first.canonical_patient,
    )
    for enrollment, days in ((first, 27), (second, 20)):
        services.drug_test_record(
            enrollment=enrollment,
            actor=actor,
            collected_at=timezone.now() - datetime.timedelta(days=days),
            result="negative",
        )
    second.refresh_from_db()
    assert second.total_points == 5  # capped by the first enrollment's 10
    assert "All 2 enrollments match" in run()
    Enrollment.objects.filter(pk=second.pk).update(total_points=10)  # as if uncapped
    with pytest.raises(CommandError):
        run()


def test_the_collector_is_paused_for_a_batch_and_restored():
    assert gc.isenabled()
    with _collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with _collector_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


@pytest.mark.parametrize("seed", range(5))
def test_points_earned_elsewhere_before_a_day_are_the_plain_sum(seed):
    rng = random.Random(seed)
    start = datetime.date(2024, 10, 1)
    entries = [
        (
            start + datetime.timedelta(days=rng.randrange(500)),
            rng.randrange(-5, 30),
            rng.random() < 0.5,
        )
        for _ in range(rng.randrange(0, 60))
    ]
    earned = _EarnedElsewhere(entries)
    for offset in range(0, 520, 3):
        day = start + datetime.timedelta(days=offset)
        expected = sum(
            p
            for d, p, same_day in entries
            if d.year == day.year and (d < day or (d == day and same_day))
        )
        assert earned.before(day) == expected
