"""Psychiatry's IntakeQ pages: read-only, and they tell nothing about the CM program."""

import datetime
import re
import uuid

import pytest
from django.urls import reverse

from tests.factories import (
    EnrollmentFactory,
    IntakeQPatientFactory,
    PatientCanonicalFactory,
    PatientIntakeQLinkFactory,
)

pytestmark = pytest.mark.django_db

DOB = datetime.date(1985, 6, 15)


@pytest.fixture
def psychiatry_client(client, staff_user):
    client.force_login(staff_user("Psychiatry"))
    return client


@pytest.fixture
def twins():
    """Two IntakeQ patients alike but for their ids; only the first is also in the CM program."""
    alike = {"first_name": "John", "last_name": "Smith", "date_of_birth": DOB, "email": "js@x.org"}
    in_cm, not_in_cm = IntakeQPatientFactory(**alike), IntakeQPatientFactory(**alike)
    canonical = PatientCanonicalFactory(first_name="John", last_name="Smith", date_of_birth=DOB)
    PatientIntakeQLinkFactory(canonical_patient=canonical, intakeq_patient=in_cm)
    EnrollmentFactory(cm_patient__canonical_patient=canonical)
    return in_cm, not_in_cm


def _without_ids(html, *patients):
    for patient in patients:
        html = html.replace(str(patient.pk), "ID").replace(patient.intakeq_client_id, "CLIENT")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_detail_page_of_a_cm_participant_is_the_same_as_anyone_elses(psychiatry_client, twins):
    in_cm, not_in_cm = twins
    pages = [psychiatry_client.get(reverse("intakeq:patient-detail", args=[p.pk])) for p in twins]
    assert [page.status_code for page in pages] == [200, 200]
    assert _without_ids(pages[0].content.decode(), in_cm) == _without_ids(
        pages[1].content.decode(), not_in_cm
    )


def test_search_lists_cm_participants_like_everyone_else(psychiatry_client, twins):
    response = psychiatry_client.post(reverse("intakeq:patient-list"), {"q": "smith"}, follow=True)
    assert set(response.context["page"].object_list) == set(twins)


def test_pages_never_mention_the_cm_program(psychiatry_client, twins):
    words = re.compile(r"\b(CM|contingency|enroll\w*|points|streak|CPSS|caseload)\b", re.I)
    for url in (
        reverse("intakeq:patient-list"),
        reverse("intakeq:patient-detail", args=[twins[0].pk]),
    ):
        body = psychiatry_client.get(url).content.decode()
        body = body.replace("Moonlit CM", "")  # the site's name in the page title and header
        assert words.findall(body) == []


def test_rows_written_by_the_old_cm_app_are_hidden(psychiatry_client):
    legacy_cm_row = IntakeQPatientFactory(intakeq_client_id=None, last_name="Legacyrow")
    listing = psychiatry_client.post(
        reverse("intakeq:patient-list"), {"q": "Legacyrow"}, follow=True
    )
    assert list(listing.context["page"].object_list) == []
    detail = psychiatry_client.get(reverse("intakeq:patient-detail", args=[legacy_cm_row.pk]))
    unknown = psychiatry_client.get(reverse("intakeq:patient-detail", args=[uuid.uuid4()]))
    # The error page's sign-out form carries a CSRF token masked afresh on every page.
    assert (detail.status_code, _without_ids(detail.content.decode())) == (
        unknown.status_code,
        _without_ids(unknown.content.decode()),
    )


def test_search_finds_by_date_of_birth(psychiatry_client, twins):
    IntakeQPatientFactory(date_of_birth=datetime.date(1970, 1, 1))
    response = psychiatry_client.post(
        reverse("intakeq:patient-list"), {"q": "1985-06-15"}, follow=True
    )
    assert set(response.context["page"].object_list) == set(twins)


def test_search_finds_by_intakeq_client_id(psychiatry_client):
    wanted, _ = IntakeQPatientFactory(), IntakeQPatientFactory()
    response = psychiatry_client.post(
        reverse("intakeq:patient-list"), {"q": wanted.intakeq_client_id.lower()}, follow=True
    )
    assert list(response.context["page"].object_list) == [wanted]


def test_the_pages_are_read_only(psychiatry_client, twins):
    response = psychiatry_client.post(reverse("intakeq:patient-detail", args=[twins[0].pk]))
    assert response.status_code == 405


@pytest.mark.parametrize("page", ["list", "detail"])
def test_dates_of_birth_read_as_on_the_cm_pages(psychiatry_client, page):
    patient = IntakeQPatientFactory(date_of_birth=DOB)
    url = (
        reverse("intakeq:patient-list")
        if page == "list"
        else reverse("intakeq:patient-detail", args=[patient.pk])
    )
    html = psychiatry_client.get(url).content.decode()
    assert "Jun 15, 1985" in html
    assert "1985-06-15" not in html
