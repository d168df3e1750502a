"""A hand-made POST with a malformed id gets the page's own words (or a 404, like an unknown
id), never the database field's "“x” is not a valid UUID."."""

import pytest
from django.urls import reverse

from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

RAW = "is not a valid UUID"


@pytest.fixture
def supervisor_client(client, staff_user):
    client.force_login(staff_user("CPSS Supervisor"))
    return client


def test_a_malformed_cpss_id_on_the_reassign_page_reads_as_a_choice_not_in_the_list(
    supervisor_client,
):
    url = reverse("cm:enrollment-reassign", kwargs={"enrollment_id": EnrollmentFactory().pk})
    response = supervisor_client.post(url, {"cpss_provider": "x", "reason": "Moving"}, follow=True)
    page = response.content.decode()
    assert RAW not in page
    assert "Choose an active CPSS from the list." in page


def test_a_malformed_receiving_cpss_id_on_the_caseload_move_is_a_choice_not_in_the_list(
    supervisor_client,
):
    departing = EnrollmentFactory().cpss_provider
    response = supervisor_client.post(
        reverse("cm:caseload-move"),
        {"from_provider": departing.pk, "to_providers": ["x"], "reason": "Leaving"},
        follow=True,
    )
    page = response.content.decode()
    assert RAW not in page
    assert "Choose CPSS from the list." in page


def test_a_malformed_program_id_when_adding_a_pod_is_a_choice_not_in_the_list(
    supervisor_client,
):
    response = supervisor_client.post(
        reverse("cm:pods"), {"action": "add", "cm_program": "x", "name": "Pod Q"}, follow=True
    )
    page = response.content.decode()
    assert RAW not in page
    assert "Choose a program from the list." in page


def test_a_malformed_pod_id_is_a_404_like_an_unknown_pod(supervisor_client):
    response = supervisor_client.post(
        reverse("cm:pods"), {"action": "rename", "pod": "x", "name": "Pod Q"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("number", ["0", "-3"])
def test_a_page_number_below_one_on_the_cm_list_is_the_first_page(client, number):
    from tests.factories import CPSSFactory

    cpss = CPSSFactory()
    EnrollmentFactory.create_batch(26, cpss_provider=cpss)
    client.force_login(cpss.user)
    page = client.get(reverse("cm:patient-list"), {"page": number}).context["page"]
    assert page.number == 1


@pytest.mark.parametrize("number", ["0", "-3"])
def test_a_page_number_below_one_on_the_intakeq_list_is_the_first_page(client, staff_user, number):
    from tests.factories import IntakeQPatientFactory

    IntakeQPatientFactory.create_batch(51)
    client.force_login(staff_user("Psychiatry"))
    page = client.get(reverse("intakeq:patient-list"), {"page": number}).context["page"]
    assert page.number == 1
