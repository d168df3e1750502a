"""One real browser: a CPSS signs in and enrolls a new patient in headless Debian chromium.

`make test` installs chromium when it is missing and it can; where it cannot, this test is skipped
with the reason shown (pytest -ra). Never `playwright install`: we drive the system's chromium.
"""

import pytest
from django.urls import reverse

from cm_program.models import Enrollment
from tests.browser import chromium
from tests.factories import ContingencyManagementFactory, CPSSFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser_page(monkeypatch):
    with chromium(monkeypatch) as browser:
        page = browser.new_page()
        page.set_default_timeout(15_000)
        yield page


def test_cpss_signs_in_and_enrolls_a_new_patient(browser_page, live_server):
    from tests.factories import staff_group

    staff_group("CPSS")
    program = ContingencyManagementFactory(name="Stimulant CM")
    cpss = CPSSFactory(first_name="Maria", last_name="Lopez", user__username="maria")
    page = browser_page

    page.goto(live_server.url + reverse("cm:enroll-new"))
    page.fill("input[name=username]", "maria")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url("**" + reverse("cm:enroll-new"))

    page.fill("input[name=first_name]", "Jessica")
    page.fill("input[name=last_name]", "Martinez")
    page.fill("input[name=date_of_birth]", "1992-03-22")
    page.fill("input[name=phone]", "801 555 0123")
    page.fill("input[name=email]", "jessica@example.com")
    page.select_option("select[name=enrollment_source]", "acute_care")
    page.select_option("select[name=smartphone_access]", "yes")
    page.fill("input[name=address_zip]", "84101")
    page.select_option("select[name=cm_program]", str(program.pk))
    page.click("button[value=check]")

    # Continue never enrolls: a summary first, and going back keeps the date of birth (#12).
    page.wait_for_selector("#summary")
    page.click("button[value=edit]")
    assert page.input_value("input[name=date_of_birth]") == "1992-03-22"
    page.click("button[value=check]")
    page.click("button[value=confirm]")
    page.wait_for_selector("text=Jessica Martinez is enrolled in Stimulant CM.")
    assert page.locator("h1").inner_text() == "Jessica Martinez"
    enrollment = Enrollment.objects.select_related("cm_patient").get()
    assert enrollment.cpss_provider_id == cpss.pk
    assert enrollment.cm_patient.phone == "(801) 555-0123"
