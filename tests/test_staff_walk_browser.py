"""Each role walks its main tasks in a real browser (issue 12), at phone width (390 px) so that
every page on the way is also checked to fit the screen with its top bar and sign-out.

Debian's chromium through Playwright (tests/browser.py); skipped, with the reason, where it is
missing. One browser serves the module (launching one per test cost about a second each); each
test opens its own signed-in context and the database is flushed after each, as for any
transactional test. The walks pass through the dead ends the issue lists, now passable: a
reactivation on a full caseload, final statuses and their undo, re-enrolling a withdrawn person,
reassignment and a caseload move, identity correction, pods, the enrollment's duplicate check and
summary, "already enrolled", and the list's sort, page size, phone search and export.
"""

import datetime
import re
from pathlib import Path

import pytest
from django.urls import reverse

from cm_program import services
from cm_program.models import Enrollment, SupervisorRequest
from cm_program.supervisor_requests import supervisor_request_reactivation_create
from tests.browser import PHONE, chromium, fits_the_width, signed_in_page
from tests.factories import (
    ContingencyManagementFactory,
    CPSSFactory,
    EnrollmentFactory,
    IntakeQPatientFactory,
    PatientCanonicalFactory,
    PatientIntakeQLinkFactory,
    SupervisorRequestFactory,
    staff_group,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def browser():
    with pytest.MonkeyPatch.context() as patch, chromium(patch) as browser:
        yield browser


@pytest.fixture
def phone_as(browser, live_server):
    """``phone_as(user)``: a page at phone width signed in as ``user``, closed after the test."""
    opened = []

    def open_page(user):
        page = signed_in_page(browser, live_server, user, viewport=PHONE)
        opened.append(page.context)
        return page

    yield open_page
    for context in opened:
        context.close()


@pytest.fixture
def role(staff_user):
    """``role("CPSS")``: a user of that group, after a transactional test's flush too."""

    def make(name, **fields):
        staff_group(name)
        return staff_user(name, **fields)

    return make


def arrive(page, heading: str):
    """The page is the one expected, has the top bar with sign-out, and fits the phone."""
    page.wait_for_selector(f"h1:has-text({heading!r})")
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert fits_the_width(page), page.url


def open_patient(page, live_server, enrollment):
    """The patient's page, where each walk about one person starts."""
    patient = enrollment.canonical_patient
    url = reverse("cm:patient-detail", kwargs={"canonical_patient_id": patient.pk})
    page.goto(live_server.url + url)
    arrive(page, f"{patient.first_name} {patient.last_name}")


def person(first_name, last_name, **fields):
    """An enrollment's fields for a person of that name."""
    return {
        "cm_patient__canonical_patient__first_name": first_name,
        "cm_patient__canonical_patient__last_name": last_name,
        **fields,
    }


def field(page, label: str):
    """The control of that label; a select's name also carries its chosen option, hence ^."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}\b"))


def see(page, text: str):
    assert page.get_by_text(text).first.is_visible(), text


def test_a_cpss_walks_home_caseload_a_patient_enrollment_and_the_day(phone_as, live_server, role):
    cpss = role("CPSS")
    enrollment = EnrollmentFactory(
        cpss_provider=cpss.cm_provider,
        cm_patient__canonical_patient__first_name="Jessica",
        cm_patient__canonical_patient__last_name="Martinez",
    )
    page = phone_as(cpss)

    page.goto(live_server.url + "/")
    arrive(page, "Your work today")
    assert page.get_by_role("heading", name="Your caseload").is_visible()
    assert page.get_by_text("Enrolled without a consent date").is_visible()

    page.get_by_role("link", name="CM patients").first.click()
    arrive(page, "CM patients")
    page.get_by_role("link", name="Martinez, Jessica").click()
    arrive(page, "Jessica Martinez")
    assert page.title().startswith("Jessica Martinez")
    assert page.get_by_role("heading", name=enrollment.cm_program.name).is_visible()

    page.get_by_role("link", name="Enroll new patient").first.click()
    arrive(page, "Enroll a new CM patient")
    focused = page.evaluate("document.activeElement.name")
    assert focused == "first_name"

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Incentives: today").click()
    arrive(page, "Visits for")


def test_a_supervisor_walks_home_the_queue_and_a_patient(phone_as, live_server, role):
    supervisor = role("CPSS Supervisor")
    EnrollmentFactory(
        cm_patient__canonical_patient__first_name="Ana",
        cm_patient__canonical_patient__last_name="Reyes",
    )
    SupervisorRequestFactory()
    page = phone_as(supervisor)

    page.goto(live_server.url + "/")
    arrive(page, "Your work today")
    assert page.get_by_role("heading", name="CPSS caseloads").is_visible()
    page.get_by_role("link", name="1 request waiting for a supervisor").click()
    arrive(page, "Requests waiting for a supervisor")
    decide = page.get_by_role("link", name="Decide").bounding_box()
    assert decide["x"] + decide["width"] <= PHONE["width"]  # not past the table's scroll

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Reyes, Ana").first.click()
    arrive(page, "Ana Reyes")


def test_psychiatry_searches_from_home(phone_as, live_server, role):
    doctor = role("Psychiatry")
    IntakeQPatientFactory(first_name="Lena", last_name="Okafor")
    page = phone_as(doctor)

    page.goto(live_server.url + "/")
    arrive(page, "Your work today")
    assert page.evaluate("document.activeElement.name") == "q"
    page.keyboard.type("Okafor")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Okafor, Lena").click()
    arrive(page, "Lena Okafor")


def test_an_admin_walks_home_the_dual_report_and_a_complete_view(phone_as, live_server, role):
    admin = role("Admin")
    link = PatientIntakeQLinkFactory(
        canonical_patient__first_name="Rosa", canonical_patient__last_name="Diaz"
    )
    EnrollmentFactory(cm_patient__canonical_patient=link.canonical_patient)
    page = phone_as(admin)

    page.goto(live_server.url + "/")
    arrive(page, "Your work today")
    assert page.get_by_role("heading", name="Waiting for review").is_visible()
    page.get_by_role("link", name="In both CM and IntakeQ", exact=True).click()
    arrive(page, "People in both CM and IntakeQ")
    page.get_by_role("link", name="Diaz").click()
    arrive(page, "Rosa Diaz")
    for section in ("CM record", "IntakeQ (Moonlit) record", "Link", "Enrollments"):
        assert page.get_by_role("heading", name=section, exact=True).is_visible()
    page.get_by_role("link", name="History of this person").click()
    arrive(page, "History of Rosa Diaz")


def test_a_failed_sign_in_moves_focus_to_the_error(browser, live_server, role):
    role("CPSS", username="maria")
    page = browser.new_page()
    page.goto(live_server.url + "/accounts/login/")
    assert page.evaluate("document.activeElement.name") == "username"
    page.fill("input[name=username]", "maria")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    page.wait_for_selector(".errorlist")
    assert page.evaluate("document.activeElement.classList.contains('errorlist')")
    page.close()


# --- Dead end 3: reactivating a paused patient on a full caseload ---------------------------


def _full_caseload_with_paused(first_name, last_name):
    cpss = CPSSFactory(max_caseload=1, first_name="Maria", last_name="Lopez")
    EnrollmentFactory(cpss_provider=cpss)
    return cpss, EnrollmentFactory(
        cpss_provider=cpss, status="paused", **person(first_name, last_name)
    )


def test_a_cpss_on_a_full_caseload_asks_a_supervisor_to_reactivate(phone_as, live_server):
    cpss, paused = _full_caseload_with_paused("Paul", "Ortiz")
    page = phone_as(cpss.user)
    open_patient(page, live_server, paused)

    page.get_by_role("link", name="Change status").click()
    arrive(page, "Change status: Paul Ortiz")
    field(page, "New status").select_option(label="Active")
    page.get_by_label("Reason").fill("Back from detox")
    page.get_by_role("button", name="Change status").click()
    see(page, "A supervisor can reactivate them onto another CPSS's caseload.")
    assert page.get_by_label("Reason").input_value() == "Back from detox"

    page.get_by_role("button", name="Ask a supervisor to reactivate them").click()
    arrive(page, "Paul Ortiz")
    see(page, "Sent to a supervisor")
    request = SupervisorRequest.objects.get()
    assert (request.kind, request.enrollment_id, request.reason) == (
        "reactivation",
        paused.pk,
        "Back from detox",
    )

    # Their home follows the request until a supervisor decides it.
    page.goto(live_server.url + "/")
    arrive(page, "Your work today")
    assert page.get_by_role("heading", name="Your requests to a supervisor").is_visible()
    see(page, "Waiting for a supervisor")


def test_a_supervisor_reactivates_a_requested_patient_onto_a_cpss_with_room(
    phone_as, live_server, role
):
    cpss, paused = _full_caseload_with_paused("Paul", "Ortiz")
    supervisor_request_reactivation_create(
        actor=cpss.user, enrollment=paused, reason="Back from detox"
    )
    roomy = CPSSFactory(first_name="Rosa", last_name="Diaz")
    page = phone_as(role("CPSS Supervisor"))

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="1 request waiting for a supervisor").click()
    arrive(page, "Requests waiting for a supervisor")
    page.get_by_role("link", name="Decide").click()
    arrive(page, "Reactivation on a full caseload")
    page.get_by_label("Reactivate onto the CPSS chosen below").check()
    field(page, "CPSS").select_option(str(roomy.pk))
    page.get_by_label("Note").fill("Rosa has room")
    page.get_by_role("button", name="Decide").click()
    arrive(page, "Paul Ortiz")  # on to the person just reactivated
    see(page, "Decided: reactivated.")
    page.get_by_role("link", name="Supervisor requests").first.click()
    arrive(page, "Requests waiting for a supervisor")
    see(page, "No request is waiting.")
    paused.refresh_from_db()
    assert (paused.status, paused.cpss_provider_id) == ("active", roomy.pk)


# --- Dead ends 4 and 5: final statuses, their undo, re-enrolling ----------------------------


def test_a_cpss_graduates_a_patient_after_confirming_it_is_final(phone_as, live_server):
    cpss = CPSSFactory()
    enrollment = EnrollmentFactory(cpss_provider=cpss, **person("Lena", "Park"))
    page = phone_as(cpss.user)
    open_patient(page, live_server, enrollment)

    page.get_by_role("link", name="Change status").click()
    arrive(page, "Change status: Lena Park")
    see(page, "Graduated and withdrawn are final")
    field(page, "New status").select_option(label="Graduated")
    page.get_by_label("Reason").fill("Finished the program")
    page.get_by_role("button", name="Change status").click()
    see(page, "tick the box to confirm")
    enrollment.refresh_from_db()
    assert enrollment.status == "active"

    page.get_by_label("I understand this status is final").check()
    page.get_by_role("button", name="Change status").click()
    arrive(page, "Lena Park")
    see(page, "is now graduated")
    assert page.get_by_role("link", name="Change status").count() == 0


def test_a_supervisor_undoes_a_withdrawal_with_a_reason(phone_as, live_server, role):
    supervisor = role("CPSS Supervisor")
    enrollment = EnrollmentFactory(status="paused", **person("Omar", "Haddad"))
    services.enrollment_status_change(
        enrollment=enrollment, to_status="withdrawn", reason="Moved away", actor=supervisor
    )
    page = phone_as(supervisor)
    open_patient(page, live_server, enrollment)

    page.get_by_role("link", name="Undo withdrawn").click()
    arrive(page, "Undo a final status: Omar Haddad")
    page.get_by_label("Reason").fill("Withdrawn by mistake")
    page.get_by_role("button", name="Undo").click()
    arrive(page, "Omar Haddad")
    see(page, "is paused again")
    see(page, "Withdrawn by mistake")
    enrollment.refresh_from_db()
    assert enrollment.status == "paused"


def _type_new_patient(page, *, first_name, last_name, date_of_birth, program, phone="", pod=""):
    """The "Enroll a new CM patient" form as a user fills it in, then Continue."""
    page.get_by_label("First name").fill(first_name)
    page.get_by_label("Last name").fill(last_name)
    page.get_by_label("Date of birth").fill(date_of_birth)
    field(page, "Phone").fill(phone)
    field(page, "Enrollment source").select_option(label="Acute care")
    field(page, "Program").select_option(label=program.name)
    if pod:
        field(page, "Pod").select_option(label=pod)
    page.get_by_role("button", name="Continue").click()


def test_a_supervisor_enrolling_a_withdrawn_person_is_led_to_re_enroll_them(
    phone_as, live_server, role
):
    cpss = CPSSFactory(first_name="Maria", last_name="Lopez")
    program = ContingencyManagementFactory(name="Stimulant CM")
    patient = PatientCanonicalFactory(
        first_name="Ana", last_name="Reyes", date_of_birth=datetime.date(1990, 5, 4)
    )
    enrollment = EnrollmentFactory(
        cm_patient__canonical_patient=patient, cm_program=program, status="withdrawn"
    )
    page = phone_as(role("CPSS Supervisor"))
    page.goto(live_server.url + reverse("cm:enroll-new"))
    arrive(page, "Enroll a new CM patient")
    field(page, "CPSS").select_option(str(cpss.pk))
    _type_new_patient(
        page, first_name="Ana", last_name="Reyes", date_of_birth="1990-05-04", program=program
    )

    page.get_by_label("Same person: Ana Reyes").check()
    page.get_by_role("button", name="Enroll", exact=True).click()
    arrive(page, "Enroll a new CM patient")
    see(page, "already enrolled in")
    assert page.get_by_role("link", name="Open their page").is_visible()
    page.get_by_role("link", name="re-enroll them").click()

    arrive(page, "Re-enroll: Ana Reyes")
    field(page, "CPSS who takes them on").select_option(str(cpss.pk))
    page.get_by_label("New enrollment date").fill("2026-11-02")
    page.get_by_label("Reason").fill("Back from treatment")
    page.get_by_role("button", name="Re-enroll").click()
    arrive(page, "Ana Reyes")
    see(page, "Back from treatment")
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.cpss_provider_id) == ("active", cpss.pk)
    assert Enrollment.objects.count() == 1


# --- Dead ends 9, 10 and 11: reassignment, a caseload move, pods, identity correction --------


def test_a_supervisor_reassigns_with_a_reason_then_moves_a_caseload(phone_as, live_server, role):
    departing = CPSSFactory(first_name="Maria", last_name="Lopez")
    rosa = CPSSFactory(first_name="Rosa", last_name="Diaz", max_caseload=10)
    enrollment = EnrollmentFactory(cpss_provider=departing, **person("Lena", "Park"))
    EnrollmentFactory.create_batch(2, cpss_provider=departing)
    page = phone_as(role("CPSS Supervisor"))
    open_patient(page, live_server, enrollment)

    page.get_by_role("link", name="Reassign CPSS").click()
    arrive(page, "Reassign CPSS: Lena Park")
    field(page, "New CPSS").select_option(str(departing.pk))
    page.get_by_label("Reason").fill("Speaks Spanish")
    page.get_by_role("button", name="Reassign").click()
    see(page, "already with")  # a no-op is refused, the reason kept
    field(page, "New CPSS").select_option(str(rosa.pk))
    page.get_by_role("button", name="Reassign").click()
    arrive(page, "Lena Park")
    see(page, "CPSS changed")
    see(page, "Speaks Spanish")

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Move a departing CPSS's caseload").click()
    arrive(page, "Move a departing CPSS's caseload")
    field(page, "Departing CPSS").select_option(str(departing.pk))
    page.get_by_role("checkbox", name=re.compile("^Rosa Diaz")).check()
    page.get_by_label("Reason").fill("Maria is leaving")
    page.get_by_role("button", name="Move the caseload").click()
    arrive(page, "Move a departing CPSS's caseload")
    see(page, "Moved 2 enrollments away from Maria Lopez.")
    assert Enrollment.objects.filter(cpss_provider=rosa).count() == 3


def test_a_supervisor_corrects_a_name_on_the_patient_page(phone_as, live_server, role):
    enrollment = EnrollmentFactory(**person("Jesica", "Martinez"))
    page = phone_as(role("CPSS Supervisor"))
    open_patient(page, live_server, enrollment)

    page.get_by_role("link", name="Correct name or date of birth").click()
    arrive(page, "Jesica Martinez")
    page.get_by_label("First name").fill("Jessica")
    page.get_by_label("Reason").fill("Typo at intake")
    page.get_by_role("button", name="Correct").click()
    arrive(page, "Jessica Martinez")
    see(page, "Identity corrected")


def test_a_supervisor_adds_a_pod_enrolls_a_patient_into_it_and_moves_her(
    phone_as, live_server, role
):
    cpss = CPSSFactory(first_name="Maria", last_name="Lopez")
    program = ContingencyManagementFactory(name="Stimulant CM")
    page = phone_as(role("CPSS Supervisor"))

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Pods", exact=True).first.click()
    arrive(page, "Pods")
    field(page, "Program").select_option(label="Stimulant CM")
    page.get_by_label("New pod").fill("Pod North")
    page.get_by_role("button", name="Add pod").click()
    arrive(page, "Pods")
    see(page, "Pod “Pod North” added to Stimulant CM.")

    page.get_by_role("link", name="Enroll new patient").first.click()
    arrive(page, "Enroll a new CM patient")
    field(page, "CPSS").select_option(str(cpss.pk))
    _type_new_patient(
        page,
        first_name="Noor",
        last_name="Aziz",
        date_of_birth="1988-07-14",
        program=program,
        pod="Pod North",
    )
    see(page, "No one on file looks like this person")
    page.get_by_role("button", name="Enroll", exact=True).click()
    arrive(page, "Noor Aziz")
    assert Enrollment.objects.get().pod_assignment == "Pod North"

    # Later she moves to another of the program's pods, from her page.
    page.get_by_role("link", name="Change pod").click()
    arrive(page, "Change pod: Noor Aziz")
    field(page, "Pod").select_option("Pod A")
    page.get_by_role("button", name="Save pod").click()
    arrive(page, "Noor Aziz")
    see(page, "Now in pod Pod A.")
    assert Enrollment.objects.get().pod_assignment == "Pod A"


# --- Dead ends 6, 7 and 12: enrolling through the duplicate check, and back -----------------


def test_a_cpss_enrolls_a_known_person_through_the_duplicate_check(phone_as, live_server):
    cpss = CPSSFactory(first_name="Maria", last_name="Lopez")
    program = ContingencyManagementFactory(name="Stimulant CM")
    known = EnrollmentFactory(
        cpss_provider=cpss,
        cm_patient__canonical_patient=PatientCanonicalFactory(
            first_name="Jessica", last_name="Martinez", date_of_birth=datetime.date(1992, 3, 22)
        ),
    )
    page = phone_as(cpss.user)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Enroll a new patient").click()
    arrive(page, "Enroll a new CM patient")
    _type_new_patient(
        page,
        first_name="Jessica",
        last_name="Martinez",
        date_of_birth="1992-03-22",
        program=program,
        phone="801 555 0123",
    )

    assert page.get_by_role("heading", name="Likely the same person").is_visible()
    see(page, "What will be enrolled")
    page.get_by_label("Same person: Jessica Martinez").check()
    page.get_by_role("button", name="Enroll", exact=True).click()
    arrive(page, "Jessica Martinez")
    see(page, "Jessica Martinez is enrolled in Stimulant CM.")
    assert page.get_by_role("heading", name="Stimulant CM").is_visible()

    # Back: the summary, then the form, as typed (GET pages: no resubmission page). Sending it
    # again finds them "already enrolled", with the way to their page.
    page.go_back()
    arrive(page, "Enroll a new CM patient")
    see(page, "Mar 22, 1992")
    page.go_back()
    arrive(page, "Enroll a new CM patient")
    assert page.get_by_label("Date of birth").input_value() == "1992-03-22"
    assert page.get_by_label("First name").input_value() == "Jessica"
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Same person: Jessica Martinez").check()
    page.get_by_role("button", name="Enroll", exact=True).click()
    arrive(page, "Enroll a new CM patient")
    see(page, "already enrolled in")
    page.get_by_role("link", name="Open their page").click()
    arrive(page, "Jessica Martinez")
    assert Enrollment.objects.filter(canonical_patient=known.canonical_patient).count() == 2


# --- Dead ends 13 and 14: the list's sort, page size, phone search and export ----------------


def test_a_cpss_sorts_sizes_and_searches_their_list_by_phone(phone_as, live_server):
    cpss = CPSSFactory()
    EnrollmentFactory.create_batch(25, cpss_provider=cpss)
    EnrollmentFactory(
        cpss_provider=cpss,
        total_points=120,
        cm_patient__phone="(801) 555-0123",
        **person("Jessica", "Martinez"),
    )
    page = phone_as(cpss.user)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="CM patients").first.click()
    arrive(page, "CM patients")
    see(page, "Page 1 of 2 · 26 enrollments")

    page.get_by_role("link", name="50", exact=True).click()
    arrive(page, "CM patients")
    see(page, "Page 1 of 1 · 26 enrollments")
    page.get_by_role("link", name="Points").click()
    page.get_by_role("link", name="Points ↑").click()
    arrive(page, "CM patients")
    assert page.locator("th[aria-sort=descending]").inner_text() == "Points ↓"
    first_row = page.locator("tbody tr").first
    assert first_row.get_by_role("link").inner_text() == "Martinez, Jessica"

    page.get_by_label("Name, date of birth, phone").fill("801-555-0123")
    page.get_by_role("button", name="Filter").click()
    arrive(page, "CM patients")
    see(page, "Page 1 of 1 · 1 enrollment")
    assert page.get_by_role("link", name="Martinez, Jessica").is_visible()
    assert "555" not in page.url  # the search is kept server-side (issue 11)


def test_a_supervisor_exports_the_filtered_list_as_csv(phone_as, live_server, role):
    EnrollmentFactory(**person("Ana", "Reyes"))
    EnrollmentFactory(**person("Lena", "Park"))
    page = phone_as(role("CPSS Supervisor"))
    page.goto(live_server.url + reverse("cm:patient-list"))
    arrive(page, "CM patients")
    page.get_by_label("Name, date of birth, phone").fill("Reyes")
    page.get_by_role("button", name="Filter").click()
    arrive(page, "CM patients")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Last name,First name,Date of birth")
    assert [line.split(",")[:2] for line in lines[1:]] == [["Reyes", "Ana"]]


def _incentive_ledger(role):
    """A CPSS's participant with one negative recorded: a ledger row with long 'How' words."""
    from incentives import services as incentive_services
    from incentives.schedules import schedule_demo_publish

    cpss = role("CPSS")
    schedule_demo_publish(actor=cpss)
    enrollment = EnrollmentFactory(
        cpss_provider=cpss.cm_provider,
        enrollment_date=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=3),
    )
    incentive_services.drug_test_record(
        enrollment=enrollment,
        actor=cpss,
        collected_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1),
        result="negative",
    )
    return cpss, enrollment


def test_the_ledgers_how_words_wrap_within_a_phones_width(phone_as, live_server, role):
    cpss, enrollment = _incentive_ledger(role)
    page = phone_as(cpss)
    url = reverse("incentives:participant", kwargs={"enrollment_id": enrollment.pk})
    page.goto(live_server.url + url)
    page.wait_for_selector("h1:has-text('Incentives')")
    how = page.locator("td", has_text="base + step").first
    box = how.bounding_box()
    assert box["x"] + box["width"] <= page.evaluate("window.innerWidth")


def test_the_statement_prints_from_its_button_without_the_top_bar(phone_as, live_server, role):
    cpss, enrollment = _incentive_ledger(role)
    page = phone_as(cpss)
    url = reverse("incentives:statement", kwargs={"enrollment_id": enrollment.pk})
    page.goto(live_server.url + url)
    page.wait_for_selector("h1:has-text('Incentive statement')")
    page.evaluate("window.print = () => { window.printed = true; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.printed === true")
    page.emulate_media(media="print")
    assert not page.get_by_role("button", name="Print").is_visible()
    assert not page.get_by_role("button", name="Sign out").is_visible()
