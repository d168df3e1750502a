"""Searches keep names and dates of birth out of URLs (core.searches): posted, then ?search=<id>."""

import datetime
import re
import time

import pytest
from django.test import Client
from django.urls import reverse

from core import searches
from tests.factories import EnrollmentFactory, IntakeQPatientFactory

pytestmark = pytest.mark.django_db

DOB = datetime.date(1985, 6, 15)
# page, role, the posted search
SEARCH_PAGES = [
    ("cm:patient-list", "CPSS Supervisor", {"q": "Zyxwardson 1985-06-15"}),
    ("intakeq:patient-list", "Psychiatry", {"q": "Zyxwardson 1985-06-15"}),
    (
        "cm:enroll-existing",
        "CPSS",
        {"step": "search", "last_name": "Zyxwardson", "date_of_birth": "1985-06-15"},
    ),
]


@pytest.fixture
def people():
    """The person searched for, in CM and in IntakeQ, and someone else in each."""
    enrollment = EnrollmentFactory(
        cm_patient__canonical_patient__last_name="Zyxwardson",
        cm_patient__canonical_patient__date_of_birth=DOB,
    )
    EnrollmentFactory()
    return {
        "canonical": enrollment.canonical_patient,
        "intakeq": IntakeQPatientFactory(last_name="Zyxwardson", date_of_birth=DOB),
        "other_intakeq": IntakeQPatientFactory(),
    }


def _urls(html):
    return re.findall(r'(?:href|action)="([^"]*)"', html)


@pytest.mark.parametrize(("name", "role", "data"), SEARCH_PAGES)
def test_a_search_names_no_one_in_any_url(name, role, data, client, staff_user, people):
    client.force_login(staff_user(role))
    response = client.post(reverse(name), data, follow=True)
    [(location, status)] = response.redirect_chain
    html = response.content.decode()
    assert status == 302
    assert re.fullmatch(rf"{reverse(name)}\?search=[\w-]+(&per_page=\d+)?", location)
    assert "Zyxwardson" in html  # found, and shown in the page itself
    # The date as typed or encoded, never a bare "1985", which a random UUID may contain.
    typed = r"Zyxwardson|1985-0?6-15|0?6(/|%2F)15(/|%2F)1985"
    leaking = [url for url in [location, *_urls(html)] if re.search(typed, url, re.IGNORECASE)]
    assert leaking == []


@pytest.mark.parametrize(("name", "role", "data"), SEARCH_PAGES)
def test_the_search_id_gives_the_same_results_again(name, role, data, client, staff_user, people):
    client.force_login(staff_user(role))
    first = client.post(reverse(name), data, follow=True)
    again = client.get(first.redirect_chain[0][0])
    assert again.content.decode().count("Zyxwardson") == first.content.decode().count("Zyxwardson")


def test_the_search_filters_the_cm_list(client, staff_user, people):
    client.force_login(staff_user("CPSS Supervisor"))
    response = client.post(reverse("cm:patient-list"), {"q": "Zyxwardson"}, follow=True)
    rows = response.context["page"]
    assert [row.canonical_patient_id for row in rows] == [people["canonical"].pk]


def test_a_search_id_means_nothing_in_another_session(client, staff_user, people):
    user = staff_user("Psychiatry")
    client.force_login(user)
    location = client.post(reverse("intakeq:patient-list"), {"q": "Zyxwardson"}).url
    other = Client()
    other.force_login(staff_user("Psychiatry"))
    response = other.get(location)
    assert len(response.context["page"].object_list) == 2
    assert searches.EXPIRED_MESSAGE in response.content.decode()


def test_a_search_id_means_nothing_on_another_page(client, staff_user, people):
    client.force_login(staff_user("Admin"))
    location = client.post(reverse("intakeq:patient-list"), {"q": "Zyxwardson"}).url
    response = client.get(reverse("cm:patient-list") + location[location.index("?") :])
    assert len(response.context["page"].object_list) == 2


def test_a_search_id_expires(client, staff_user, people, monkeypatch):
    client.force_login(staff_user("Psychiatry"))
    location = client.post(reverse("intakeq:patient-list"), {"q": "Zyxwardson"}).url
    later = time.time() + searches.MAX_AGE + 1
    monkeypatch.setattr(searches.time, "time", lambda: later)
    response = client.get(location)
    assert len(response.context["page"].object_list) == 2
    assert searches.EXPIRED_MESSAGE in response.content.decode()


def test_a_session_keeps_only_the_latest_searches(client, staff_user):
    client.force_login(staff_user("Psychiatry"))
    for n in range(searches.MAX_KEPT + 5):
        client.post(reverse("intakeq:patient-list"), {"q": f"name{n}"})
    assert len(client.session[searches.SESSION_KEY]) == searches.MAX_KEPT
