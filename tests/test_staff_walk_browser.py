"""Each role walks its main tasks in a real browser (issue 12), at phone width (390 px) so that
every page on the way is also checked to fit the screen with its top bar and sign-out.

Debian's chromium through Playwright (tests/browser.py); skipped, with the reason, where it is
missing. Walks only pages as they are at this branch's base; the pages other parts of issue 12
add are walked once merged.
"""

import pytest

from tests.browser import PHONE, chromium, fits_the_width, signed_in_page
from tests.factories import (
    EnrollmentFactory,
    IntakeQPatientFactory,
    PatientIntakeQLinkFactory,
    SupervisorRequestFactory,
    staff_group,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser(monkeypatch):
    with chromium(monkeypatch) as browser:
        yield browser


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


def test_a_cpss_walks_home_caseload_a_patient_enrollment_and_the_day(browser, live_server, role):
    cpss = role("CPSS")
    enrollment = EnrollmentFactory(
        cpss_provider=cpss.cm_provider,
        cm_patient__canonical_patient__first_name="Jessica",
        cm_patient__canonical_patient__last_name="Martinez",
    )
    page = signed_in_page(browser, live_server, cpss, viewport=PHONE)

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


def test_a_supervisor_walks_home_the_queue_and_a_patient(browser, live_server, role):
    supervisor = role("CPSS Supervisor")
    EnrollmentFactory(
        cm_patient__canonical_patient__first_name="Ana",
        cm_patient__canonical_patient__last_name="Reyes",
    )
    SupervisorRequestFactory()
    page = signed_in_page(browser, live_server, supervisor, viewport=PHONE)

    page.goto(live_server.url + "/")
    arrive(page, "Your work today")
    assert page.get_by_role("heading", name="CPSS caseloads").is_visible()
    page.get_by_role("link", name="1 request waiting for a supervisor").click()
    arrive(page, "Requests waiting for a supervisor")

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Reyes, Ana").first.click()
    arrive(page, "Ana Reyes")


def test_psychiatry_searches_from_home(browser, live_server, role):
    doctor = role("Psychiatry")
    IntakeQPatientFactory(first_name="Lena", last_name="Okafor")
    page = signed_in_page(browser, live_server, doctor, viewport=PHONE)

    page.goto(live_server.url + "/")
    arrive(page, "Your work today")
    assert page.evaluate("document.activeElement.name") == "q"
    page.keyboard.type("Okafor")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Okafor, Lena").click()
    arrive(page, "Lena Okafor")


def test_an_admin_walks_home_the_dual_report_and_a_complete_view(browser, live_server, role):
    admin = role("Admin")
    link = PatientIntakeQLinkFactory(
        canonical_patient__first_name="Rosa", canonical_patient__last_name="Diaz"
    )
    EnrollmentFactory(cm_patient__canonical_patient=link.canonical_patient)
    page = signed_in_page(browser, live_server, admin, viewport=PHONE)

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
