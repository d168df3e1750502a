"""The calendar-year cap spans the person's enrollments, but a CPSS sees only their own
caseload: what the cap says about an enrollment on another caseload is for supervisors."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from incentives import services
from incentives.models import DrugTest, ScheduledVisit
from incentives.schedules import schedule_create, schedule_publish
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

WEEKS = [{"first_week": 1, "last_week": 12, "tests_per_week": 2}]


def planned(enrollment, actor) -> list[ScheduledVisit]:
    services.visits_plan(enrollment=enrollment, actor=actor)
    return list(ScheduledVisit.objects.filter(enrollment=enrollment).order_by("week", "slot"))


def record(enrollment, actor, visit):
    day = visit.due_date
    return services.drug_test_record(
        enrollment=enrollment,
        actor=actor,
        collected_at=datetime.datetime.combine(
            day, datetime.time(12), tzinfo=timezone.get_current_timezone()
        ),
        result="negative",
        visit=visit,
    )


def two_caseloads(staff_user, cap_period: str):
    """A CPSS, a supervisor, and one person enrolled twice under a 25-point cap: mine on the
    CPSS's caseload, theirs on another CPSS's."""
    cpss, supervisor = staff_user("CPSS"), staff_user("CPSS Supervisor")
    draft = schedule_create(
        actor=supervisor, name="Capped", weeks=WEEKS, base_points=10, max_points=10,
        cap_points=25, cap_period=cap_period,
    )  # fmt: skip
    schedule_publish(schedule=draft, actor=supervisor)
    enrolled = timezone.now() - datetime.timedelta(days=30)
    mine = EnrollmentFactory(cpss_provider=cpss.cm_provider, enrollment_date=enrolled)
    theirs = EnrollmentFactory(
        enrollment_date=enrolled,
        cm_patient=mine.cm_patient,
        canonical_patient=mine.canonical_patient,
    )
    return cpss, supervisor, mine, theirs


@pytest.fixture
def shared_cap(staff_user):
    """A yearly cap shared by the two enrollments: theirs earns 20, then mine is cut to 5."""
    cpss, supervisor, mine, theirs = two_caseloads(staff_user, "calendar_year")
    their_visits = planned(theirs, supervisor)
    record(theirs, supervisor, their_visits[0])
    record(theirs, supervisor, their_visits[1])
    record(mine, cpss, planned(mine, cpss)[2])
    return cpss, supervisor, mine, theirs


def participant_page(client, user, enrollment, name="incentives:participant") -> str:
    client.force_login(user)
    return client.get(reverse(name, kwargs={"enrollment_id": enrollment.pk})).content.decode()


def correct_their_first_test(supervisor, theirs):
    test = DrugTest.objects.filter(enrollment=theirs).order_by("collected_at").first()
    services.drug_test_correct(
        test=test, actor=supervisor, result="positive", reason="Lab confirmed fentanyl"
    )


def test_a_cpss_sees_points_left_under_the_cap_not_points_used_across_enrollments(
    client, shared_cap
):
    cpss, _, mine, _ = shared_cap
    page = participant_page(client, cpss, mine)
    assert "25 of 25" not in page
    assert "0 points left under this year's cap" in page


def test_a_supervisor_sees_the_cap_used_across_enrollments(client, shared_cap):
    _, supervisor, mine, _ = shared_cap
    assert "25 of 25" in participant_page(client, supervisor, mine)


def test_a_cpss_ledger_does_not_say_why_another_caseloads_enrollment_was_repriced(
    client, shared_cap
):
    cpss, supervisor, mine, theirs = shared_cap
    correct_their_first_test(supervisor, theirs)
    page = participant_page(client, cpss, mine)
    assert "Re-priced" in page
    assert "fentanyl" not in page
    assert "another enrollment" not in page


def test_a_cpss_statement_does_not_say_why_another_caseloads_enrollment_was_repriced(
    client, shared_cap
):
    cpss, supervisor, mine, theirs = shared_cap
    correct_their_first_test(supervisor, theirs)
    page = participant_page(client, cpss, mine, name="incentives:statement")
    assert "Re-priced" in page
    assert "fentanyl" not in page


def test_a_supervisor_sees_why_the_enrollment_was_repriced(client, shared_cap):
    _, supervisor, mine, theirs = shared_cap
    correct_their_first_test(supervisor, theirs)
    assert "fentanyl" in participant_page(client, supervisor, mine)


def test_a_cpss_with_both_enrollments_on_the_caseload_sees_the_cap_used(client, shared_cap):
    cpss, _, mine, theirs = shared_cap
    type(theirs).objects.filter(pk=theirs.pk).update(cpss_provider=cpss.cm_provider)
    assert "25 of 25" in participant_page(client, cpss, mine)


def test_psychiatry_is_refused_the_incentive_pages_without_the_persons_name(
    client, shared_cap, staff_user
):
    _, _, mine, _ = shared_cap
    client.force_login(staff_user("Psychiatry"))
    for name in ("incentives:participant", "incentives:statement"):
        response = client.get(reverse(name, kwargs={"enrollment_id": mine.pk}))
        assert response.status_code == 403
        assert mine.canonical_patient.last_name not in response.content.decode()


def test_a_cap_per_enrollment_reads_as_this_enrollments_even_with_another_caseloads(
    client, staff_user
):
    # Nothing is shared under a cap per enrollment: "this year's cap" would be wrong words.
    cpss, _, mine, _ = two_caseloads(staff_user, "enrollment")
    record(mine, cpss, planned(mine, cpss)[0])
    page = participant_page(client, cpss, mine)
    assert "this year's cap" not in page
    assert "10 of 25 points (this enrollment)" in page
