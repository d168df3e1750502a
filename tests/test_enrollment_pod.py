"""A patient moves to another pod of their program from their page (cm:enrollment-pod)."""

import pytest
from django.urls import reverse

from cm_program.models import Enrollment
from tests.factories import EnrollmentFactory, PodFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrollment(cpss, program):
    """On Pod A of a program whose pods are Pod A and Pod B (the factory's)."""
    return EnrollmentFactory(cpss_provider=cpss, cm_program=program, pod_assignment="Pod A")


def _url(enrollment):
    return reverse("cm:enrollment-pod", kwargs={"enrollment_id": enrollment.pk})


def test_the_patient_page_links_to_the_pod_change(client, enrollment):
    page = client.get(
        reverse(
            "cm:patient-detail", kwargs={"canonical_patient_id": enrollment.canonical_patient_id}
        )
    )
    assert _url(enrollment) in page.content.decode()


def test_the_page_offers_only_the_programs_active_pods(client, enrollment, program):
    PodFactory(cm_program=program, name="Pod Retired", is_active=False)
    PodFactory(name="Pod Elsewhere")
    choices = [
        value
        for value, _ in client.get(_url(enrollment))
        .context["form"]
        .fields["pod_assignment"]
        .choices
    ]
    assert choices == ["", "Pod A", "Pod B"]


def test_a_cpss_moves_their_patient_to_another_pod(client, enrollment):
    response = client.post(_url(enrollment), {"pod_assignment": "Pod B"})
    assert response.status_code == 302
    assert Enrollment.objects.get(pk=enrollment.pk).pod_assignment == "Pod B"


def test_no_pod_clears_it(client, enrollment):
    client.post(_url(enrollment), {"pod_assignment": ""})
    assert Enrollment.objects.get(pk=enrollment.pk).pod_assignment is None


def test_a_pod_of_another_program_is_refused_and_nothing_changes(client, enrollment):
    PodFactory(name="Pod Elsewhere")
    response = client.post(_url(enrollment), {"pod_assignment": "Pod Elsewhere"}, follow=True)
    assert "Pod Elsewhere is not one of the available choices" in response.content.decode()
    assert Enrollment.objects.get(pk=enrollment.pk).pod_assignment == "Pod A"
