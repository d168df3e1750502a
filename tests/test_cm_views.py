"""The CPSS pages end to end through the Django test client."""

import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cm_program.models import Enrollment, PatientCM
from identity.models import PatientCanonical
from intakeq_link.models import PatientIntakeQLink
from tests.factories import (
    CPSSFactory,
    EnrollmentFactory,
    IntakeQPatientFactory,
    PatientCanonicalFactory,
    StaffUserFactory,
)

pytestmark = pytest.mark.django_db


def _new_patient_post(program, cpss, **overrides):
    data = {
        "first_name": "Jessica",
        "last_name": "Martinez",
        "date_of_birth": "1992-03-22",
        "phone": "801.555.0123",
        "email": "jessica@example.com",
        "insurance_primary": "Utah Medicaid",
        "enrollment_source": "acute_care",
        "consent_date": "2025-01-10",
        "smartphone_access": "yes",
        "address_state": "ut",
        "address_zip": "84101",
        "preferred_language": "English",
        "cm_program": str(program.pk),
        "cpss_provider": str(cpss.pk),
        "pod_assignment": "Pod A",
        "submission_key": uuid.uuid4().hex,
        "action": "check",
    }
    data.update(overrides)
    return data


def _all_urls(enrollment):
    pid = enrollment.canonical_patient_id
    return [
        reverse("cm:patient-list"),
        reverse("cm:enroll-new"),
        reverse("cm:enroll-existing"),
        reverse("cm:patient-detail", kwargs={"canonical_patient_id": pid}),
        reverse("cm:patient-edit", kwargs={"canonical_patient_id": pid}),
        reverse("cm:enrollment-status", kwargs={"enrollment_id": enrollment.pk}),
    ]


def test_every_page_sends_anonymous_users_to_the_login_page(client):
    for url in _all_urls(EnrollmentFactory()):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_every_page_is_forbidden_to_psychiatry_staff(client):
    client.force_login(StaffUserFactory(group="Psychiatry"))
    for url in _all_urls(EnrollmentFactory()):
        assert client.get(url).status_code == 403


def test_a_cpss_guessing_another_cpss_patient_gets_404(client, cpss):
    other = EnrollmentFactory()  # on someone else's caseload
    for url in _all_urls(other)[3:]:
        assert client.get(url).status_code == 404


def test_enroll_new_page_renders_date_inputs_and_the_users_own_cpss_preselected(client, cpss):
    EnrollmentFactory(cpss_provider=cpss)
    html = client.get(reverse("cm:enroll-new")).content.decode()
    assert 'type="date" name="date_of_birth"' in html
    assert f'<option value="{cpss.pk}" selected>' in html


def test_enroll_new_without_candidates_enrolls_and_shows_the_patient(client, cpss, program):
    data = _new_patient_post(program, cpss, action="confirm")
    response = client.post(reverse("cm:enroll-new"), data, follow=True)
    enrollment = Enrollment.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "cm:patient-detail", kwargs={"canonical_patient_id": enrollment.canonical_patient_id}
    )
    assert "Jessica Martinez is enrolled in Stimulant CM." in response.content.decode()
    cm = PatientCM.objects.get()
    assert (cm.phone, cm.address_state, cm.status) == ("(801) 555-0123", "UT", "active")


def _on_caseload_of(cpss, **person):
    """A person the CPSS may see: enrolled on their caseload in another program."""
    enrollment = EnrollmentFactory(
        cpss_provider=cpss,
        cm_patient__canonical_patient=PatientCanonicalFactory(**person),
    )
    return enrollment.canonical_patient


JESSICA = {
    "first_name": "Jessica",
    "last_name": "Martinez",
    "date_of_birth": datetime.date(1992, 3, 22),
}


def test_enroll_new_shows_likely_existing_people_before_creating_anything(client, cpss, program):
    _on_caseload_of(cpss, **JESSICA)
    response = client.post(reverse("cm:enroll-new"), _new_patient_post(program, cpss), follow=True)
    html = response.content.decode()
    assert "Is this someone we already know?" in html
    assert 'value="new"' in html
    assert not Enrollment.objects.filter(cm_program=program).exists()


def test_choosing_the_candidate_enrolls_that_person(client, cpss, program):
    known = _on_caseload_of(cpss, **JESSICA)
    data = _new_patient_post(program, cpss, action="confirm", person=f"canonical:{known.pk}")
    client.post(reverse("cm:enroll-new"), data)
    assert Enrollment.objects.get(cm_program=program).canonical_patient == known
    assert PatientCanonical.objects.count() == 1


def test_confirming_without_a_choice_asks_again_and_saves_nothing(client, cpss, program):
    _on_caseload_of(cpss, **JESSICA)
    data = _new_patient_post(program, cpss, action="confirm")
    response = client.post(reverse("cm:enroll-new"), data, follow=True)
    assert "Choose one of these people" in response.content.decode()
    assert not Enrollment.objects.filter(cm_program=program).exists()


def test_a_person_not_proposed_by_the_matcher_cannot_be_chosen(client, cpss, program):
    PatientCanonicalFactory(
        first_name="Jessica", last_name="Martinez", date_of_birth=datetime.date(1992, 3, 22)
    )
    stranger = PatientCanonicalFactory()
    data = _new_patient_post(program, cpss, action="confirm", person=f"canonical:{stranger.pk}")
    client.post(reverse("cm:enroll-new"), data)
    assert not Enrollment.objects.exists()


def test_choosing_an_intakeq_candidate_links_that_record(client, cpss, program):
    iq = IntakeQPatientFactory(
        first_name="Jessica", last_name="Martinez", date_of_birth=datetime.date(1992, 3, 22)
    )
    data = _new_patient_post(program, cpss, action="confirm", person=f"intakeq:{iq.pk}")
    client.post(reverse("cm:enroll-new"), data)
    link = PatientIntakeQLink.objects.get()
    assert link.intakeq_patient_id == iq.pk
    assert link.canonical_patient == Enrollment.objects.get().canonical_patient


def test_bad_input_shows_errors_beside_fields_and_saves_nothing(client, cpss, program):
    data = _new_patient_post(program, cpss, phone="555", address_zip="84", address_state="Utah")
    response = client.post(reverse("cm:enroll-new"), data, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_phone_error"' in html
    assert "Enter a US phone number" in html
    assert "ZIP code of 5 or 9 digits" in html
    assert 'aria-invalid="true"' in html
    assert not PatientCanonical.objects.exists()


def test_double_submit_enrolls_once_and_lands_on_the_patient(client, cpss, program):
    data = _new_patient_post(program, cpss, action="confirm")
    client.post(reverse("cm:enroll-new"), data)
    response = client.post(reverse("cm:enroll-new"), data, follow=True)
    assert Enrollment.objects.count() == 1
    assert "already submitted" in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse(
        "cm:patient-detail",
        kwargs={"canonical_patient_id": Enrollment.objects.get().canonical_patient_id},
    )


def test_full_caseload_is_explained_on_the_form(client, cpss, program):
    cpss.max_caseload = 1
    cpss.save()
    EnrollmentFactory(cpss_provider=cpss)
    data = _new_patient_post(program, cpss, action="confirm")
    response = client.post(reverse("cm:enroll-new"), data, follow=True)
    assert "caseload is full (1 of 1 active enrollments)" in response.content.decode()
    assert Enrollment.objects.count() == 1


def test_enroll_existing_search_lists_intakeq_patients_but_never_old_cm_app_rows(client, cpss):
    dob = datetime.date(1985, 6, 15)
    IntakeQPatientFactory(first_name="John", last_name="Smith", date_of_birth=dob)
    IntakeQPatientFactory(
        first_name="Johnny", last_name="Smithers", date_of_birth=dob, intakeq_client_id=None
    )
    response = client.post(
        reverse("cm:enroll-existing"),
        {"step": "search", "last_name": "smith", "date_of_birth": "1985-06-15"},
        follow=True,
    )
    html = response.content.decode()
    assert "John Smith" in html
    assert "Smithers" not in html


def test_enroll_existing_confirm_shows_confidence_and_prefills_phone_and_email(client, cpss):
    iq = IntakeQPatientFactory(phone="(801) 555-0147", email="john@example.com")
    response = client.get(reverse("cm:enroll-existing"), {"intakeq_patient": str(iq.pk)})
    html = response.content.decode()
    assert '<strong id="confidence">1.00</strong>' in html
    assert 'value="(801) 555-0147"' in html
    assert 'value="john@example.com"' in html


def test_enroll_existing_links_and_enrolls_in_one_go(client, cpss, program):
    iq = IntakeQPatientFactory(first_name="John", last_name="Smith")
    data = {
        "intakeq_patient": str(iq.pk),
        "phone": "(801) 555-0147",
        "email": "john@example.com",
        "consent_date": "2025-02-01",
        "smartphone_access": "limited",
        "address_state": "UT",
        "cm_program": str(program.pk),
        "cpss_provider": str(cpss.pk),
        "submission_key": uuid.uuid4().hex,
        "action": "enroll",
    }
    response = client.post(reverse("cm:enroll-existing"), data, follow=True)
    enrollment = Enrollment.objects.get()
    assert "John Smith is enrolled" in response.content.decode()
    assert enrollment.cm_patient.enrollment_source == "existing_patient"
    link = PatientIntakeQLink.objects.get()
    assert (link.intakeq_patient_id, link.linked_by) == (iq.pk, cpss.pk)


def test_enroll_existing_refuses_an_old_cm_app_row(client, cpss):
    legacy = IntakeQPatientFactory(intakeq_client_id=None)
    response = client.get(reverse("cm:enroll-existing"), {"intakeq_patient": str(legacy.pk)})
    assert response.status_code == 404


def test_patient_page_shows_identity_cm_data_points_streak_and_history(client, cpss):
    enrollment = EnrollmentFactory(cpss_provider=cpss, total_points=240, current_streak=6)
    enrollment.status_changes.create(from_status=None, to_status="active", reason="Enrolled")
    patient = enrollment.canonical_patient
    html = client.get(
        reverse("cm:patient-detail", kwargs={"canonical_patient_id": patient.pk})
    ).content.decode()
    assert patient.last_name in html
    assert enrollment.cm_patient.email in html
    assert '<p class="figure">240</p>' in html and '<p class="figure">6</p>' in html
    assert "Enrolled" in html


def test_editing_cm_data_saves_normalized_values(client, cpss):
    enrollment = EnrollmentFactory(cpss_provider=cpss)
    url = reverse(
        "cm:patient-edit", kwargs={"canonical_patient_id": enrollment.canonical_patient_id}
    )
    form = client.get(url).context["form"]
    data = {name: value or "" for name, value in form.initial.items()}
    data.update(phone="385 555 0100", address_zip="841011234", consent_date="2025-01-01")
    response = client.post(url, data, follow=True)
    assert "CM details saved." in response.content.decode()
    cm = PatientCM.objects.get()
    assert (cm.phone, cm.address_zip) == ("(385) 555-0100", "84101-1234")


def test_status_change_with_reason_is_saved_and_shown_in_history(client, cpss):
    enrollment = EnrollmentFactory(cpss_provider=cpss)
    url = reverse("cm:enrollment-status", kwargs={"enrollment_id": enrollment.pk})
    response = client.post(url, {"to_status": "paused", "reason": "Inpatient stay"}, follow=True)
    enrollment.refresh_from_db()
    assert enrollment.status == "paused"
    assert "Inpatient stay" in response.content.decode()


def test_status_change_without_reason_is_refused(client, cpss):
    enrollment = EnrollmentFactory(cpss_provider=cpss)
    url = reverse("cm:enrollment-status", kwargs={"enrollment_id": enrollment.pk})
    response = client.post(url, {"to_status": "paused", "reason": ""}, follow=True)
    assert "Give the reason for this change." in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == "active"


def test_a_disallowed_transition_is_not_offered_nor_accepted(client, cpss):
    enrollment = EnrollmentFactory(cpss_provider=cpss, status="paused")
    url = reverse("cm:enrollment-status", kwargs={"enrollment_id": enrollment.pk})
    assert 'value="graduated"' not in client.get(url).content.decode()
    client.post(url, {"to_status": "graduated", "reason": "Done"})
    enrollment.refresh_from_db()
    assert enrollment.status == "paused"


def _list_rows(client, **params):
    response = client.post(reverse("cm:patient-list"), params, follow=True)
    rows = response.context["page"].object_list
    return response, [Enrollment.objects.get(pk=row.enrollment_id) for row in rows]


def test_patient_list_filters_by_status_program_pod_and_cpss(client, cpss):
    wanted = EnrollmentFactory(cpss_provider=cpss, status="paused", pod_assignment="Pod B")
    EnrollmentFactory(cpss_provider=cpss, status="active", pod_assignment="Pod A")
    assert _list_rows(client, status="paused")[1] == [wanted]
    assert _list_rows(client, pod_assignment="Pod B")[1] == [wanted]
    assert _list_rows(client, cm_program=str(wanted.cm_program_id))[1] == [wanted]
    assert len(_list_rows(client, cpss_provider=str(cpss.pk))[1]) == 2


def test_patient_list_searches_by_name_or_date_of_birth(client, cpss):
    wanted = EnrollmentFactory(
        cpss_provider=cpss,
        cm_patient__canonical_patient__first_name="Jéssica",
        cm_patient__canonical_patient__last_name="Martinez",
        cm_patient__canonical_patient__date_of_birth=datetime.date(1992, 3, 22),
    )
    EnrollmentFactory(cpss_provider=cpss)
    assert _list_rows(client, q="jessica mart")[1] == [wanted]
    assert _list_rows(client, q="1992-03-22")[1] == [wanted]
    assert _list_rows(client, q="03/22/1992")[1] == [wanted]


def test_patient_list_shows_a_cpss_only_their_caseload(client, cpss):
    own = EnrollmentFactory(cpss_provider=cpss)
    EnrollmentFactory()
    assert _list_rows(client)[1] == [own]


def test_patient_list_query_count_does_not_grow_with_the_page_size(client, cpss):
    EnrollmentFactory.create_batch(55, cpss_provider=cpss, pod_assignment="Pod A")
    counts = []
    for per_page in (25, 50):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(reverse("cm:patient-list"), {"per_page": per_page}, follow=True)
        assert len(response.context["page"].object_list) == per_page
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_patient_list_query_count_is_fixed(client, cpss, django_assert_num_queries):
    EnrollmentFactory.create_batch(12, cpss_provider=cpss)
    client.get(reverse("cm:patient-list"))  # warm the session and permission caches
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("cm:patient-list"), {"per_page": 25})
    with django_assert_num_queries(len(small)):
        client.get(reverse("cm:patient-list"), {"per_page": 100})


def test_home_links_cpss_staff_to_their_pages(client, cpss):
    html = client.get(reverse("home")).content.decode()
    for name in ("cm:patient-list", "cm:enroll-new", "cm:enroll-existing"):
        assert f'href="{reverse(name)}"' in html


def test_a_failure_midway_through_the_page_leaves_no_rows(client, cpss, program, monkeypatch):
    from django.core.exceptions import ValidationError

    from cm_program import services

    def fail(**kwargs):
        raise ValidationError({"cm_program": "The program is closed to new enrollments."})

    monkeypatch.setattr(services, "enrollment_create", fail)
    data = _new_patient_post(program, cpss, action="confirm")
    response = client.post(reverse("cm:enroll-new"), data, follow=True)
    assert "The program is closed to new enrollments." in response.content.decode()
    assert not PatientCanonical.objects.exists()
    assert not PatientCM.objects.exists()


def test_a_linked_intakeq_candidate_is_offered_as_its_canonical_person(client, cpss, program):
    from tests.factories import PatientIntakeQLinkFactory

    dob = datetime.date(1992, 3, 22)
    link = PatientIntakeQLinkFactory(
        canonical_patient=_on_caseload_of(
            cpss, first_name="Jess", last_name="Martinez-Lopez", date_of_birth=dob
        ),
        intakeq_patient__first_name="Jessica",
        intakeq_patient__last_name="Martinez",
        intakeq_patient__date_of_birth=dob,
    )
    response = client.post(reverse("cm:enroll-new"), _new_patient_post(program, cpss), follow=True)
    html = response.content.decode()
    assert f'value="canonical:{link.canonical_patient_id}"' in html
    assert f'value="intakeq:{link.intakeq_patient_id}"' not in html


@pytest.fixture
def supervisor(client):
    user = StaffUserFactory(group="CPSS Supervisor")
    client.force_login(user)
    return user


def test_supervisor_reassigns_an_enrollment_to_another_cpss(client, supervisor):
    enrollment = EnrollmentFactory()
    other = CPSSFactory()
    url = reverse("cm:enrollment-reassign", kwargs={"enrollment_id": enrollment.pk})
    response = client.post(url, {"cpss_provider": str(other.pk), "reason": "Balance"}, follow=True)
    enrollment.refresh_from_db()
    assert enrollment.cpss_provider == other
    assert f"is now with {other}" in response.content.decode()


def test_reassigning_to_a_full_caseload_is_refused_and_changes_nothing(client, supervisor):
    enrollment = EnrollmentFactory()
    before = enrollment.cpss_provider_id
    full = CPSSFactory(max_caseload=1)
    EnrollmentFactory(cpss_provider=full)
    url = reverse("cm:enrollment-reassign", kwargs={"enrollment_id": enrollment.pk})
    response = client.post(url, {"cpss_provider": str(full.pk), "reason": "Balance"}, follow=True)
    enrollment.refresh_from_db()
    assert enrollment.cpss_provider_id == before
    assert "caseload is full" in response.content.decode()


def test_a_cpss_cannot_reassign_even_on_their_own_caseload(client, cpss):
    enrollment = EnrollmentFactory(cpss_provider=cpss)
    url = reverse("cm:enrollment-reassign", kwargs={"enrollment_id": enrollment.pk})
    assert client.post(url, {"cpss_provider": str(CPSSFactory().pk)}).status_code == 403
    enrollment.refresh_from_db()
    assert enrollment.cpss_provider == cpss
