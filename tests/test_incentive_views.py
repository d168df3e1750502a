"""The incentive pages: the CPSS's day, recording in two clicks, corrections, schedules, reports."""

import datetime
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access_log.models import PatientAccessLog
from cm_program.models import Enrollment
from cm_program.services import enrollment_cpss_reassign, enrollment_status_change
from incentives import services
from incentives.models import DrugTest, IncentiveSchedule, LedgerEntry, ScheduledVisit
from incentives.schedules import schedule_demo_publish
from tests.factories import EnrollmentFactory, ProviderCMFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cpss(staff_user):
    return staff_user("CPSS")


@pytest.fixture
def mine(cpss):
    schedule_demo_publish(actor=cpss)
    enrollment = EnrollmentFactory(
        cpss_provider=cpss.cm_provider,
        enrollment_date=timezone.now() - datetime.timedelta(days=10),
    )
    services.visits_plan(enrollment=enrollment, actor=cpss)
    return enrollment


def first_open_visit(enrollment):
    return (
        ScheduledVisit.objects.filter(enrollment=enrollment, status="planned")
        .order_by("week", "slot")
        .first()
    )


def test_the_day_page_lists_my_overdue_visits_and_not_another_caseload(client, cpss, mine):
    theirs = EnrollmentFactory(enrollment_date=timezone.now() - datetime.timedelta(days=10))
    services.visits_plan(enrollment=theirs, actor=cpss)
    client.force_login(cpss)
    page = client.get(reverse("incentives:day")).content.decode()
    assert mine.canonical_patient.last_name in page
    assert theirs.canonical_patient.last_name not in page


def paused_and_back(enrollment, actor):
    """Paused 8 days ago, active again 5 days ago: of visits due 10, 7 and 3 days ago and
    today, the one due 7 days ago fell due during the pause."""
    for to_status, days in (("paused", 8), ("active", 5)):
        when = timezone.now() - datetime.timedelta(days=days)
        with mock.patch("django.utils.timezone.now", return_value=when):
            enrollment_status_change(
                enrollment=Enrollment.objects.get(pk=enrollment.pk),
                to_status=to_status,
                reason="away",
                actor=actor,
            )
    return list(ScheduledVisit.objects.filter(enrollment=enrollment).order_by("week", "slot"))


def test_the_day_page_leaves_out_a_visit_due_during_a_pause(client, cpss, mine):
    plan = paused_and_back(mine, cpss)
    client.force_login(cpss)
    page = client.get(reverse("incentives:day")).content.decode()
    links = [reverse("incentives:visit-record", kwargs={"visit_id": v.pk}) for v in plan[:4]]
    assert [link in page for link in links] == [True, False, True, True]


def test_the_day_page_reads_the_pauses_without_a_query_per_row(
    client, cpss, mine, django_assert_num_queries
):
    paused_and_back(mine, cpss)
    client.force_login(cpss)
    client.get(reverse("incentives:day"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("incentives:day"))
    for _ in range(3):
        other = EnrollmentFactory(
            cpss_provider=cpss.cm_provider,
            enrollment_date=timezone.now() - datetime.timedelta(days=10),
        )
        services.visits_plan(enrollment=other, actor=cpss)
        paused_and_back(other, cpss)
    with django_assert_num_queries(len(one)):
        page = client.get(reverse("incentives:day")).content.decode()
    assert page.count("Record result") == 4 * 3


def test_the_record_page_shows_what_a_negative_earns_before_saving(client, cpss, mine):
    client.force_login(cpss)
    url = reverse("incentives:visit-record", kwargs={"visit_id": first_open_visit(mine).pk})
    page = client.get(url).content.decode()
    assert "earns 20 points now" in page
    assert "reset to 0" in page


def test_recording_a_negative_takes_one_click_on_the_record_page(client, cpss, mine):
    client.force_login(cpss)
    visit = first_open_visit(mine)
    response = client.post(
        reverse("incentives:visit-record", kwargs={"visit_id": visit.pk}), {"result": "negative"}
    )
    assert response.status_code == 302
    assert Enrollment.objects.get(pk=mine.pk).total_points == 20
    assert DrugTest.objects.get().visit == visit


def test_a_missed_visit_is_recorded_from_the_same_page(client, cpss, mine):
    client.force_login(cpss)
    visit = first_open_visit(mine)
    client.post(
        reverse("incentives:visit-record", kwargs={"visit_id": visit.pk}), {"result": "missed"}
    )
    assert ScheduledVisit.objects.get(pk=visit.pk).status == "missed"


def test_marking_a_visit_missed_while_paused_shows_why_and_writes_nothing(client, cpss, mine):
    enrollment_status_change(enrollment=mine, to_status="paused", reason="trip", actor=cpss)
    client.force_login(cpss)
    visit = first_open_visit(mine)
    url = reverse("incentives:visit-record", kwargs={"visit_id": visit.pk})
    response = client.post(url, {"result": "missed"}, follow=True)
    assert "This enrollment is paused" in response.content.decode()
    assert ScheduledVisit.objects.get(pk=visit.pk).status == "planned"


def test_a_future_collection_time_is_a_form_error_and_nothing_is_written(client, cpss, mine):
    client.force_login(cpss)
    url = reverse("incentives:visit-record", kwargs={"visit_id": first_open_visit(mine).pk})
    later = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"result": "negative", "collected_at": later})
    assert response.status_code == 302  # every POST ends in a redirect
    assert response.url.startswith(url + "?draft=")
    again = client.get(response.url)
    assert "future" in again.content.decode()
    assert again.context["form"]["collected_at"].value() == later  # what was typed is back
    assert not DrugTest.objects.exists()


def test_an_error_in_the_optional_section_opens_it_so_the_error_shows(client, cpss, mine):
    client.force_login(cpss)
    url = reverse("incentives:visit-record", kwargs={"visit_id": first_open_visit(mine).pk})
    later = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"result": "negative", "collected_at": later}, follow=True)
    assert "<details open>" in response.content.decode()


def test_the_optional_section_of_the_record_page_starts_closed(client, cpss, mine):
    client.force_login(cpss)
    url = reverse("incentives:visit-record", kwargs={"visit_id": first_open_visit(mine).pk})
    assert "<details>" in client.get(url).content.decode()


def test_the_participant_page_records_the_view(client, cpss, mine):
    client.force_login(cpss)
    url = reverse("incentives:participant", kwargs={"enrollment_id": mine.pk})
    assert client.get(url).status_code == 200
    assert PatientAccessLog.objects.filter(patient_id=mine.canonical_patient_id).exists()


def test_issuing_more_than_the_balance_is_a_form_error(client, cpss, mine):
    client.force_login(cpss)
    response = client.post(
        reverse("incentives:issue", kwargs={"pk": mine.pk}),
        {"points": 5, "method": "gift_card", "reference": "GC"},
        follow=True,
    )
    assert "Only 0 points" in response.content.decode()
    assert not LedgerEntry.objects.filter(kind="issued").exists()


def test_a_supervisor_corrects_a_test_from_its_page(client, staff_user, mine, cpss):
    recorded = services.drug_test_record(
        enrollment=mine, actor=cpss, collected_at=timezone.now(), result="negative"
    )
    client.force_login(staff_user("CPSS Supervisor"))
    client.post(
        reverse("incentives:test-correct", kwargs={"pk": recorded.test.pk}),
        {"result": "positive", "reason": "Lab confirmation"},
    )
    assert Enrollment.objects.get(pk=mine.pk).total_points == 0
    assert LedgerEntry.objects.filter(kind="adjustment", points=-20).exists()


def test_a_correction_below_what_was_handed_over_warns_after_a_hand_over_to_another_cpss(
    client, staff_user, mine, cpss
):
    recorded = services.drug_test_record(
        enrollment=mine, actor=cpss, collected_at=timezone.now(), result="negative"
    )
    services.incentive_issue(
        enrollment=mine, actor=cpss, points=20, method="gift_card", reference="GC-1"
    )
    supervisor = staff_user("CPSS Supervisor")
    enrollment_cpss_reassign(
        enrollment=mine, cpss_provider=ProviderCMFactory(), actor=supervisor, reason="leave"
    )
    client.force_login(supervisor)
    response = client.post(
        reverse("incentives:test-correct", kwargs={"pk": recorded.test.pk}),
        {"result": "positive", "reason": "Lab confirmation"},
        follow=True,
    )
    assert "unissued balance is now -20 points" in response.content.decode()


def test_an_admin_defines_previews_and_publishes_a_schedule(client, staff_user):
    client.force_login(staff_user("Admin"))
    response = client.post(
        reverse("incentives:schedule-new"),
        {
            "name": "Clinic schedule",
            "weeks": "1-12: 2\n13-24: 1",
            "cents_per_point": 50,
            "base_points": 20,
            "step_points": 3,
            "max_points": 53,
            "cap_points": 1198,
            "cap_period": "calendar_year",
            "recovery_after": 2,
            "missed_resets": "on",
            "target_analytes": "cocaine, methamphetamine, amphetamine",
        },
    )
    schedule = IncentiveSchedule.objects.get(name="Clinic schedule")
    assert response.url == reverse("incentives:schedule-detail", kwargs={"pk": schedule.pk})
    preview = client.get(response.url).content.decode()
    assert "A positive at visit 5" in preview and "1198" in preview
    client.post(response.url)
    assert IncentiveSchedule.objects.get(pk=schedule.pk).is_published


def test_a_cap_below_one_award_is_a_form_error(client, staff_user):
    client.force_login(staff_user("Admin"))
    response = client.post(
        reverse("incentives:schedule-new"),
        {
            "name": "Bad",
            "weeks": "1-4: 1",
            "cents_per_point": 50,
            "base_points": 20,
            "step_points": 0,
            "max_points": 30,
            "cap_points": 25,
            "cap_period": "enrollment",
            "target_analytes": "cocaine",
        },
        follow=True,
    )
    assert "below one award" in response.content.decode()
    assert not IncentiveSchedule.objects.filter(name="Bad").exists()


def test_the_report_csv_is_formula_safe(client, staff_user, mine, cpss):
    mine.cm_program.name = "=HYPERLINK(1)"
    mine.cm_program.save()
    services.drug_test_record(
        enrollment=mine, actor=cpss, collected_at=timezone.now(), result="negative"
    )
    client.force_login(staff_user("CPSS Supervisor"))
    body = client.get(reverse("incentives:report-csv")).content.decode()
    assert "'=HYPERLINK(1)" in body
    assert "Points earned" in body.splitlines()[0]


def test_the_statement_shows_the_balance(client, cpss, mine):
    services.drug_test_record(
        enrollment=mine, actor=cpss, collected_at=timezone.now(), result="negative"
    )
    client.force_login(cpss)
    page = client.get(reverse("incentives:statement", kwargs={"enrollment_id": mine.pk}))
    assert "unissued balance: <strong>20</strong> ($10.00)" in page.content.decode()


def test_the_statements_title_names_the_person(client, cpss, mine):
    client.force_login(cpss)
    page = client.get(reverse("incentives:statement", kwargs={"enrollment_id": mine.pk}))
    person = mine.canonical_patient
    assert f"<title>Incentive statement: {person.first_name} {person.last_name}" in (
        page.content.decode()
    )
