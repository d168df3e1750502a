"""manage.py incentives_check: exits 0 with a count when all agree, 1 with the ids otherwise."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cm_program.models import Enrollment
from incentives import services
from incentives.schedules import schedule_demo_publish
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
