"""What walking through a CPSS's and a CPSS Supervisor's day on the staff pages turned up."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cm_program import supervisor_requests
from incentives import services as incentive_services
from incentives.models import LedgerEntry
from incentives.schedules import schedule_demo_publish
from tests.factories import (
    CPSSFactory,
    EnrollmentFactory,
    StaffUserFactory,
    SupervisorRequestFactory,
)

pytestmark = pytest.mark.django_db


def test_the_patient_page_links_each_enrollment_to_its_incentives(client, cpss):
    # A paused or graduated participant has no visit due, so the day page never lists them:
    # the patient page is the only way to their ledger, statement and unissued balance.
    enrollment = EnrollmentFactory(cpss_provider=cpss, status="paused")
    url = reverse(
        "cm:patient-detail", kwargs={"canonical_patient_id": enrollment.canonical_patient_id}
    )
    html = client.get(url).content.decode()
    assert reverse("incentives:participant", kwargs={"enrollment_id": enrollment.pk}) in html


@pytest.fixture
def two_supervisors():
    return (
        StaffUserFactory(group="CPSS Supervisor", first_name="Ana", last_name="Reyes"),
        StaffUserFactory(group="CPSS Supervisor", first_name="Sam", last_name="Ortiz"),
    )


def test_a_supervisor_deciding_a_request_another_just_decided_is_told_so(client, two_supervisors):
    first, second = two_supervisors
    queued = SupervisorRequestFactory()
    supervisor_requests.supervisor_request_decline(
        supervisor_request=queued, actor=first, note="Already enrolled."
    )
    client.force_login(second)  # had the page open before the first decided
    response = client.post(
        reverse("cm:supervisor-request", kwargs={"request_id": queued.pk}),
        {"decision": "new", "cpss_provider": CPSSFactory().pk, "note": "A new person."},
        follow=True,
    )
    assert "already decided by Ana Reyes" in response.content.decode()


def test_a_second_supervisor_making_the_same_decision_is_not_told_theirs_was_saved(
    client, two_supervisors
):
    first, second = two_supervisors
    queued = SupervisorRequestFactory()
    supervisor_requests.supervisor_request_decline(
        supervisor_request=queued, actor=first, note="Already enrolled."
    )
    client.force_login(second)
    response = client.post(
        reverse("cm:supervisor-request", kwargs={"request_id": queued.pk}),
        {"decision": "decline", "note": "Duplicate of another request."},
        follow=True,
    )
    assert "Decided: not enrolled." not in response.content.decode()


@pytest.fixture
def one_negative_test(staff_user):
    """A CPSS's participant with one negative test recorded today, on the demo schedule."""
    cpss = staff_user("CPSS")
    schedule_demo_publish(actor=cpss)
    enrollment = EnrollmentFactory(
        cpss_provider=cpss.cm_provider,
        enrollment_date=timezone.now() - datetime.timedelta(days=10),
    )
    return incentive_services.drug_test_record(
        enrollment=enrollment, actor=cpss, collected_at=timezone.now(), result="negative"
    ).test


def _correct(client, staff_user, test, result):
    client.force_login(staff_user("CPSS Supervisor"))
    return client.post(
        reverse("incentives:test-correct", kwargs={"pk": test.pk}),
        {"result": result, "reason": "Lab confirmed it"},
        follow=True,
    )


def test_correcting_a_test_to_the_result_it_has_says_nothing_changed(
    client, staff_user, one_negative_test
):
    response = _correct(client, staff_user, one_negative_test, "negative")
    assert "Test corrected" not in response.content.decode()


def test_the_correction_page_dates_the_test_on_the_clinics_day(client, staff_user):
    cpss = staff_user("CPSS")
    schedule_demo_publish(actor=cpss)
    enrollment = EnrollmentFactory(
        cpss_provider=cpss.cm_provider,
        enrollment_date=timezone.now() - datetime.timedelta(days=30),
    )
    # 8 p.m. in Salt Lake City is 3 a.m. the next day in UTC.
    evening = timezone.make_aware(
        datetime.datetime.combine(
            timezone.localdate() - datetime.timedelta(days=2), datetime.time(20)
        )
    )
    recorded = incentive_services.drug_test_record(
        enrollment=enrollment, actor=cpss, collected_at=evening, result="negative"
    )
    client.force_login(staff_user("CPSS Supervisor"))
    page = client.get(reverse("incentives:test-correct", kwargs={"pk": recorded.test.pk}))
    assert f"test of {evening.date():%Y-%m-%d}" in page.content.decode()


def test_the_ledger_names_how_an_incentive_was_handed_over_in_words(client, staff_user):
    cpss = staff_user("CPSS")
    schedule_demo_publish(actor=cpss)
    enrollment = EnrollmentFactory(
        cpss_provider=cpss.cm_provider,
        enrollment_date=timezone.now() - datetime.timedelta(days=10),
    )
    incentive_services.drug_test_record(
        enrollment=enrollment, actor=cpss, collected_at=timezone.now(), result="negative"
    )
    incentive_services.incentive_issue(
        enrollment=enrollment, actor=cpss, points=20, method="gift_card", reference="GC-1"
    )
    client.force_login(cpss)
    url = reverse("incentives:participant", kwargs={"enrollment_id": enrollment.pk})
    assert "gift_card" not in client.get(url).content.decode()


def test_a_double_clicked_hand_over_is_recorded_once(client, staff_user):
    cpss = staff_user("CPSS")
    schedule_demo_publish(actor=cpss)
    enrollment = EnrollmentFactory(
        cpss_provider=cpss.cm_provider,
        enrollment_date=timezone.now() - datetime.timedelta(days=10),
    )
    incentive_services.drug_test_record(
        enrollment=enrollment, actor=cpss, collected_at=timezone.now(), result="negative"
    )
    client.force_login(cpss)
    url = reverse("incentives:issue", kwargs={"pk": enrollment.pk})
    page = client.get(url).content.decode()
    posted = dict(re.findall(r'<input type="hidden" name="(submission_key)" value="([^"]+)"', page))
    posted.update({"points": "10", "method": "voucher", "reference": "V-77"})
    client.post(url, posted)
    client.post(url, posted)
    assert LedgerEntry.objects.filter(enrollment=enrollment, kind="issued").count() == 1


def test_a_correction_that_makes_one_adjustment_says_adjustment_in_the_singular(
    client, staff_user, one_negative_test
):
    response = _correct(client, staff_user, one_negative_test, "positive")
    assert "Test corrected; 1 adjustment," in response.content.decode()


def test_a_pod_name_too_long_is_refused_in_the_forms_own_words(client, staff_user):
    from cm_program.models import Pod

    pod = Pod.objects.first() or EnrollmentFactory().cm_program.pods.first()
    client.force_login(staff_user("CPSS Supervisor"))
    response = client.post(
        reverse("cm:pods"), {"action": "rename", "pod": pod.pk, "name": "x" * 51}, follow=True
    )
    assert "at most 50 characters" in response.content.decode()


@pytest.fixture
def request_from_an_intakeq_record(staff_user):
    """A CPSS's Scenario 2 request: it holds the IntakeQ patient picked, no typed name."""
    from tests.factories import IntakeQPatientFactory

    user = staff_user("CPSS")
    intakeq_patient = IntakeQPatientFactory(first_name="Marisol", last_name="Emrchart")
    SupervisorRequestFactory(
        requested_by=user, first_name="", last_name="", intakeq_patient=intakeq_patient
    )
    return user, intakeq_patient


def test_a_cpss_home_names_a_request_made_from_an_intakeq_record(
    client, request_from_an_intakeq_record
):
    user, _ = request_from_an_intakeq_record
    client.force_login(user)

    body = client.get(reverse("home")).content.decode()

    assert "Marisol Emrchart" in body


def test_a_cpss_home_logs_a_view_of_the_intakeq_patient_a_request_names(
    client, request_from_an_intakeq_record
):
    from access_log.models import PatientAccessLog

    user, intakeq_patient = request_from_an_intakeq_record
    client.force_login(user)

    client.get(reverse("home"))

    assert PatientAccessLog.objects.filter(
        user=user, patient_kind="intakeq", patient_id=intakeq_patient.pk
    ).exists()


def test_each_pods_rename_box_and_buttons_name_their_pod(client, staff_user):
    # A screen reader heard a dozen fields all called "New name" and buttons all called "Rename".
    pod = EnrollmentFactory().cm_program.pods.first()
    client.force_login(staff_user("CPSS Supervisor"))
    page = client.get(reverse("cm:pods")).content.decode()
    assert f'aria-label="New name for {pod.name} ({pod.cm_program.name})"' in page
    assert f'aria-label="Rename {pod.name}"' in page
    assert f'aria-label="Stop offering {pod.name}"' in page
