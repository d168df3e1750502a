"""Issue 11, L3: a name typed in the admin's search box never reaches a URL."""

import pytest
from django.urls import reverse

from tests.factories import PatientCanonicalFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:identity_patientcanonical_changelist"


@pytest.fixture
def signed_in_admin(client, staff_user):
    client.force_login(staff_user("Admin"))
    return client


def test_the_search_box_posts_and_the_redirect_carries_only_an_id(signed_in_admin):
    response = signed_in_admin.post(reverse(CHANGELIST), {"q": "Zyxwardson"})

    assert response.status_code == 302
    assert "Zyxwardson" not in response["Location"]
    assert "search=" in response["Location"]


def test_the_search_id_finds_the_person_typed(signed_in_admin):
    PatientCanonicalFactory(last_name="Zyxwardson")
    PatientCanonicalFactory(last_name="Abbott")

    response = signed_in_admin.post(reverse(CHANGELIST), {"q": "Zyxwardson"}, follow=True)

    names = [p.last_name for p in response.context["cl"].result_list]
    assert names == ["Zyxwardson"]
    assert response.context["cl"].query == "Zyxwardson"


def test_an_old_link_with_the_name_in_the_url_is_moved_out_of_it(signed_in_admin):
    response = signed_in_admin.get(reverse(CHANGELIST), {"q": "Zyxwardson"})

    assert response.status_code == 302
    assert "Zyxwardson" not in response["Location"]


def test_the_results_page_links_carry_the_id_not_the_name(signed_in_admin):
    PatientCanonicalFactory(last_name="Zyxwardson")

    response = signed_in_admin.post(reverse(CHANGELIST), {"q": "Zyxwardson"}, follow=True)

    html = response.content.decode()
    assert "?q=" not in html and "&amp;q=" not in html
    assert 'method="post" role="search"' in html


def test_another_session_gets_nothing_from_the_id(signed_in_admin, client, staff_user):
    PatientCanonicalFactory(last_name="Zyxwardson")
    location = signed_in_admin.post(reverse(CHANGELIST), {"q": "Zyxwardson"})["Location"]
    other = client.__class__()
    other.force_login(staff_user("Admin"))

    response = other.get(location)

    assert response.context["cl"].query == ""


@pytest.mark.parametrize("typed", ["O'Brien", "Martínez-Ruiz", "MARTINEZ RUIZ"])
def test_the_search_finds_a_name_as_staff_type_it_with_accents_or_punctuation(
    signed_in_admin, typed
):
    # The search reads the normalized columns, so the term is normalized the same way.
    PatientCanonicalFactory(last_name="O'Brien")
    PatientCanonicalFactory(last_name="Martínez-Ruiz")
    wanted = "O'Brien" if "Brien" in typed else "Martínez-Ruiz"

    response = signed_in_admin.post(reverse(CHANGELIST), {"q": typed}, follow=True)

    assert [p.last_name for p in response.context["cl"].result_list] == [wanted]


def test_the_review_queue_search_finds_an_accented_name_on_either_side(signed_in_admin):
    from intakeq_link.models import LinkProposal
    from tests.factories import IntakeQPatientFactory, LinkProposalFactory

    by_canonical = LinkProposalFactory(canonical_patient=PatientCanonicalFactory(last_name="Núñez"))
    by_intakeq = LinkProposalFactory(intakeq_patient=IntakeQPatientFactory(last_name="Núñez"))
    LinkProposalFactory()
    changelist = reverse("admin:intakeq_link_linkproposal_changelist")

    response = signed_in_admin.post(changelist, {"q": "Núñez"}, follow=True)

    found = {p.pk for p in response.context["cl"].result_list}
    assert found == {by_canonical.pk, by_intakeq.pk}
    assert LinkProposal.objects.count() == 3
