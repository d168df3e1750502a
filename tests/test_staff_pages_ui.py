"""Issue 12's pages without dead ends: the cross-system view and the dual report, each role's
home, error pages with the top bar, and the accessibility hooks (the browser walk is
tests/test_staff_walk_browser.py)."""

import datetime
import re

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from access_log.models import PatientAccessLog
from cm_program.caseload import caseload_summary
from cm_program.models import ParticipationStatus
from tests.factories import (
    EnrollmentFactory,
    IntakeQPatientFactory,
    LinkProposalFactory,
    PatientIntakeQLinkFactory,
    SupervisorRequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked_enrollment():
    link = PatientIntakeQLinkFactory(canonical_patient__first_name="Jessica")
    return EnrollmentFactory(
        cm_patient__canonical_patient=link.canonical_patient,
        cm_program__name="Stimulant CM",
        cpss_provider__first_name="Maria",
        cpss_provider__last_name="Lopez",
    )


# --- Dead end 1: the complete view, readable and reachable ---


def test_the_complete_view_is_headed_by_the_persons_name_with_human_sections(
    client, staff_user, linked_enrollment
):
    client.force_login(staff_user("Admin"))
    person = linked_enrollment.canonical_patient
    body = client.get(reverse("complete-patient-view", args=[person.pk])).content.decode()
    assert re.search(rf"<h1>\s*{person.first_name} {person.last_name}\s*</h1>", body)
    for section in ("CM record", "IntakeQ (Moonlit) record", "Link", "Enrollments"):
        assert f">{section}</h2>" in body
    assert "Stimulant CM" in body and "Maria Lopez" in body
    assert str(linked_enrollment.cm_program_id) not in body
    assert str(linked_enrollment.cpss_provider_id) not in body
    assert f"<title>{person.first_name} {person.last_name}" in body


def test_the_complete_view_shows_dates_in_one_format(client, staff_user, linked_enrollment):
    client.force_login(staff_user("Admin"))
    person = linked_enrollment.canonical_patient
    body = client.get(reverse("complete-patient-view", args=[person.pk])).content.decode()
    assert person.date_of_birth.strftime("%b %-d, %Y") in body
    assert not re.search(r"\d{4}-\d{2}-\d{2}", body)


@pytest.mark.parametrize(
    "page",
    ["cm:patient-detail", "intakeq:patient-detail", "admin:identity_patientcanonical_change"],
)
def test_an_admin_reaches_the_complete_view_and_history_by_clicking(
    client, staff_user, linked_enrollment, page
):
    client.force_login(staff_user("Admin"))
    person = linked_enrollment.canonical_patient
    args = {
        "cm:patient-detail": {"kwargs": {"canonical_patient_id": person.pk}},
        "intakeq:patient-detail": {"args": [person.intakeq_link.intakeq_patient_id]},
        "admin:identity_patientcanonical_change": {"args": [person.pk]},
    }[page]
    body = client.get(reverse(page, **args)).content.decode()
    assert reverse("complete-patient-view", args=[person.pk]) in body
    assert reverse("audit:patient-history", args=[person.pk]) in body


def _cm_page_as_supervisor(client, staff_user, person) -> str:
    client.force_login(staff_user("CPSS Supervisor"))
    url = reverse("cm:patient-detail", kwargs={"canonical_patient_id": person.pk})
    return client.get(url).content.decode()


def test_a_supervisor_is_not_offered_the_admin_only_views(client, staff_user, linked_enrollment):
    person = linked_enrollment.canonical_patient
    body = _cm_page_as_supervisor(client, staff_user, person)
    assert reverse("complete-patient-view", args=[person.pk]) not in body
    assert reverse("audit:patient-history", args=[person.pk]) not in body


def test_the_cm_patient_page_titles_its_cards_with_headings(client, staff_user, linked_enrollment):
    body = _cm_page_as_supervisor(client, staff_user, linked_enrollment.canonical_patient)
    headings = re.findall(r"<h2>(.*?)</h2>", body)
    assert headings[:3] == ["Identity", "CM details", "Stimulant CM"]
    assert str(linked_enrollment.total_points) not in headings


# --- Dead end 2: the dual-enrollment report ---


def test_the_dual_report_has_human_headings_and_a_link_per_row(
    client, staff_user, linked_enrollment
):
    client.force_login(staff_user("Admin"))
    body = client.get(reverse("dual-enrollment-report")).content.decode()
    assert '<th scope="col">Date of birth</th>' in body
    assert "has_cm" not in body and "Has intakeq" not in body
    person = linked_enrollment.canonical_patient
    assert reverse("complete-patient-view", args=[person.pk]) in body
    assert reverse("dual-enrollment-report-csv") in body


def test_the_dual_report_csv_is_formula_safe_and_logged(client, staff_user):
    link = PatientIntakeQLinkFactory(canonical_patient__last_name="=HYPERLINK(1)")
    EnrollmentFactory(cm_patient__canonical_patient=link.canonical_patient)
    client.force_login(staff_user("Admin"))
    response = client.get(reverse("dual-enrollment-report-csv"))
    text = b"".join(response).decode() if response.streaming else response.content.decode()
    lines = text.splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert lines[0] == "Last name,First name,Date of birth,In CM,In IntakeQ (Moonlit)"
    assert lines[1].startswith("'=HYPERLINK(1),")
    assert PatientAccessLog.objects.get().patient_id == link.canonical_patient_id


# --- Dead end 15: each role's home is its work ---


def test_a_cpss_home_counts_their_caseload_by_status(client, staff_user):
    user = staff_user("CPSS")
    EnrollmentFactory.create_batch(2, cpss_provider=user.cm_provider)
    EnrollmentFactory()  # another caseload
    client.force_login(user)
    body = client.get(reverse("home")).content.decode()
    assert "Your caseload" in body
    assert "<li><strong>2</strong>Active</li>" in body


def test_enrollments_paused_longer_than_14_days_are_an_alert(staff_user):
    user = staff_user("CPSS")
    paused = EnrollmentFactory(cpss_provider=user.cm_provider, status=ParticipationStatus.PAUSED)
    EnrollmentFactory(cpss_provider=user.cm_provider)
    today = caseload_summary(user=user)
    later = caseload_summary(user=user, now=timezone.now() + datetime.timedelta(days=15))
    assert today.alerts[0].total == 0
    assert [e.pk for e in later.alerts[0].enrollments] == [paused.pk]


def test_enrollments_without_consent_are_an_alert_and_their_view_is_logged(client, staff_user):
    user = staff_user("CPSS")
    missing = EnrollmentFactory(cpss_provider=user.cm_provider)
    EnrollmentFactory(cpss_provider=user.cm_provider, cm_patient__consent_date=timezone.now())
    client.force_login(user)
    body = client.get(reverse("home")).content.decode()
    assert 'Enrolled without a consent date <span class="muted">(1)</span>' in body
    assert set(PatientAccessLog.objects.values_list("patient_id", flat=True)) == {
        missing.canonical_patient_id
    }


def test_a_supervisor_home_shows_each_cpss_load_and_the_waiting_requests(client, staff_user):
    enrollment = EnrollmentFactory(cpss_provider__max_caseload=1)
    SupervisorRequestFactory()
    client.force_login(staff_user("CPSS Supervisor"))
    body = client.get(reverse("home")).content.decode()
    assert "All caseloads" in body
    assert str(enrollment.cpss_provider) in body
    assert '<td class="over">1</td><td>1</td>' in body
    assert "1 request waiting for a supervisor" in body


def test_an_admin_home_shows_the_review_queues_and_recent_changes(client, staff_user):
    LinkProposalFactory()
    admin = staff_user("Admin")
    client.force_login(admin)
    body = client.get(reverse("home")).content.decode()
    assert "<li><strong>1</strong><a" in body and "IntakeQ link proposals" in body
    assert "In both CM and IntakeQ" in body
    assert "Recent status changes" in body


def test_psychiatry_home_is_their_search(client, staff_user):
    IntakeQPatientFactory()
    client.force_login(staff_user("Psychiatry"))
    body = client.get(reverse("home")).content.decode()
    assert f'action="{reverse("intakeq:patient-list")}"' in body
    assert "Your caseload" not in body


# --- Dead ends 17 and 18: error pages and accessibility ---


def test_the_403_page_has_the_top_bar_and_says_which_access_is_missing(client, staff_user):
    client.force_login(staff_user("CPSS"))
    response = client.get(reverse("dual-enrollment-report"))
    body = response.content.decode()
    assert response.status_code == 403
    assert "Sign out" in body
    assert "“Can see who is in both CM and IntakeQ”" in body


def test_the_404_page_has_the_top_bar(client, staff_user):
    client.force_login(staff_user("CPSS"))
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Sign out" in response.content.decode()


def test_the_500_page_has_the_top_bar(client, staff_user, monkeypatch):
    def broken(request):
        raise RuntimeError("boom")

    monkeypatch.setattr("cmproject.home.home_context", broken)
    monkeypatch.setattr("cmproject.views.home_context", broken)
    client.raise_request_exception = False
    client.force_login(staff_user("CPSS"))
    with override_settings(DEBUG=False):
        response = client.get(reverse("home"))
    assert response.status_code == 500
    assert "Sign out" in response.content.decode()


def test_every_page_has_a_skip_link_and_its_script_from_a_file(client, staff_user):
    client.force_login(staff_user("CPSS"))
    body = client.get(reverse("home")).content.decode()
    assert '<a class="skip-link" href="#main">' in body and '<main id="main"' in body
    assert re.findall(r"<script[^>]*>", body) == [
        re.search(r'<script src="[^"]*site/site.js" defer>', body).group(0)
    ]


@pytest.mark.parametrize(
    ("page", "kwarg"),
    [
        ("cm:patient-edit", "canonical_patient_id"),
        ("cm:enrollment-status", "enrollment_id"),
        ("cm:enrollment-reassign", "enrollment_id"),
    ],
)
def test_page_titles_name_the_person(client, staff_user, linked_enrollment, page, kwarg):
    client.force_login(staff_user("CPSS Supervisor"))
    person = linked_enrollment.canonical_patient
    pk = person.pk if kwarg == "canonical_patient_id" else linked_enrollment.pk
    body = client.get(reverse(page, kwargs={kwarg: pk})).content.decode()
    title = re.search(r"<title>(.*?)</title>", body, re.S).group(1)
    assert f"{person.first_name} {person.last_name}" in title


def test_a_cpss_home_shows_what_became_of_their_requests(client, staff_user):
    user = staff_user("CPSS")
    SupervisorRequestFactory(requested_by=user, first_name="Jess", last_name="Waiting")
    mine = EnrollmentFactory(cpss_provider=user.cm_provider)
    SupervisorRequestFactory(
        requested_by=user,
        first_name="Jess",
        last_name="Enrolled",
        status="different_people",
        enrollment=mine,
        decided_at=timezone.now(),
        decided_by=UserFactory(),
        decision_note="Decided",
    )
    SupervisorRequestFactory()  # someone else's
    client.force_login(user)
    body = client.get(reverse("home")).content.decode()
    assert "Your requests to a supervisor" in body
    assert "Jess Waiting" in body
    assert "Waiting for a supervisor" in body
    patient_page = reverse(
        "cm:patient-detail", kwargs={"canonical_patient_id": mine.canonical_patient_id}
    )
    assert f'<a href="{patient_page}">Jess Enrolled</a>' in body
    assert body.count("Requested") == 0  # the other CPSS's request is not listed


def test_a_request_matched_to_someone_on_another_caseload_names_only_what_was_typed(
    client, staff_user
):
    user = staff_user("CPSS")
    elsewhere = EnrollmentFactory(
        cm_patient__canonical_patient__first_name="Jessica",
        cm_patient__canonical_patient__last_name="Martinez-Hidden",
    )
    SupervisorRequestFactory(
        requested_by=user,
        first_name="Jess",
        last_name="Martinez",
        status="same_person",
        enrollment=elsewhere,
        decided_at=timezone.now(),
        decided_by=UserFactory(),
        decision_note="Decided",
    )
    client.force_login(user)
    body = client.get(reverse("home")).content.decode()
    assert "Jess Martinez" in body
    assert "Martinez-Hidden" not in body
    assert str(elsewhere.canonical_patient_id) not in body
