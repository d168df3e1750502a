"""Issue 12, dead ends 6, 7, 8 and 12: the enrollment and CM-edit forms without surprises.

No preset enrollment source and a summary with an explicit "Enroll" before anything is enrolled;
every POST ends in a redirect with what was typed kept server-side (never in the URL); the CM
edit writes only the fields the user changed; the duplicate-check step speaks in words and groups.
"""

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from cm_program.models import Enrollment, PatientCM
from tests.factories import (
    CPSSFactory,
    EnrollmentFactory,
    IntakeQPatientFactory,
    PatientCanonicalFactory,
)

pytestmark = pytest.mark.django_db

DOB = datetime.date(1992, 3, 22)


def _details(program, cpss, **overrides):
    data = {
        "first_name": "Jessica",
        "last_name": "Martinez",
        "date_of_birth": "1992-03-22",
        "phone": "801.555.0123",
        "enrollment_source": "outpatient",
        "address_state": "UT",
        "preferred_language": "English",
        "cm_program": str(program.pk),
        "cpss_provider": str(cpss.pk),
        "submission_key": uuid.uuid4().hex,
        "action": "check",
    }
    return {**data, **overrides}


def _on_caseload_of(cpss, *, phone=None, **person):
    return EnrollmentFactory(
        cpss_provider=cpss,
        cm_patient__canonical_patient=PatientCanonicalFactory(**person),
        cm_patient__phone=phone,
    ).canonical_patient


# --- 6: no preset source, a summary and an explicit Enroll ----------------------------------


def test_the_enrollment_source_has_no_preset(client, cpss):
    html = client.get(reverse("cm:enroll-new")).content.decode()
    assert '<option value="" selected>Choose…</option>' in html
    assert 'value="acute_care" selected' not in html


def test_an_enrollment_without_a_source_is_refused(client, cpss, program):
    data = _details(program, cpss, enrollment_source="", action="confirm", person="new")
    response = client.post(reverse("cm:enroll-new"), data, follow=True)
    assert "Say where the participant comes from." in response.content.decode()
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize("action", ["check", None], ids=["continue", "enter-key"])
def test_continue_without_a_match_shows_a_summary_and_enrolls_nothing(
    client, cpss, program, action
):
    data = _details(program, cpss)
    if action is None:
        del data["action"]
    response = client.post(reverse("cm:enroll-new"), data, follow=True)
    html = response.content.decode()
    assert "No one on file looks like this person" in html
    assert "<dt>Enrollment source</dt><dd>Outpatient</dd>" in html
    assert '<button type="submit" name="action" value="confirm">Enroll</button>' in html
    assert not Enrollment.objects.exists()


def test_enroll_on_the_summary_enrolls(client, cpss, program):
    client.post(reverse("cm:enroll-new"), _details(program, cpss), follow=True)
    data = _details(program, cpss, action="confirm", person="new")
    client.post(reverse("cm:enroll-new"), data)
    assert Enrollment.objects.get().cm_patient.enrollment_source == "outpatient"


def _existing(program, cpss, iq, **overrides):
    data = {
        "intakeq_patient": str(iq.pk),
        "address_state": "UT",
        "cm_program": str(program.pk),
        "cpss_provider": str(cpss.pk),
        "submission_key": uuid.uuid4().hex,
        "action": "check",
    }
    return {**data, **overrides}


def test_enroll_existing_shows_a_summary_before_linking_and_enrolling(client, cpss, program):
    iq = IntakeQPatientFactory(first_name="John", last_name="Smith")
    response = client.post(reverse("cm:enroll-existing"), _existing(program, cpss, iq), follow=True)
    html = response.content.decode()
    assert 'id="summary"' in html
    assert 'value="enroll">Link and enroll</button>' in html
    assert not Enrollment.objects.exists()
    client.post(reverse("cm:enroll-existing"), _existing(program, cpss, iq, action="enroll"))
    assert Enrollment.objects.get().cm_patient.enrollment_source == "existing_patient"


# --- 7: every POST ends in a redirect; what was typed comes back ----------------------------


@pytest.mark.parametrize(
    "overrides",
    [{}, {"phone": "555"}, {"action": "edit"}, {"action": "confirm"}],
    ids=["continue", "error", "back-to-details", "confirm-without-choice"],
)
def test_every_enroll_new_post_redirects_with_no_name_or_date_in_the_url(
    client, cpss, program, overrides
):
    _on_caseload_of(cpss, first_name="Jessica", last_name="Martinez", date_of_birth=DOB)
    response = client.post(reverse("cm:enroll-new"), _details(program, cpss, **overrides))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(reverse("cm:enroll-new") + "?draft=")
    assert "Jessica" not in location and "1992" not in location


def test_an_error_brings_back_what_was_typed_date_of_birth_included(client, cpss, program):
    data = _details(program, cpss, phone="555")
    html = client.post(reverse("cm:enroll-new"), data, follow=True).content.decode()
    assert "Enter a US phone number" in html
    assert 'value="1992-03-22"' in html
    assert 'value="Jessica"' in html


def test_back_to_the_details_keeps_everything_typed(client, cpss, program):
    review = client.post(reverse("cm:enroll-new"), _details(program, cpss))
    again = client.get(review["Location"])  # the back button or a reload: no resubmission
    assert again.status_code == 200
    data = _details(program, cpss, action="edit")
    html = client.post(reverse("cm:enroll-new"), data, follow=True).content.decode()
    assert 'value="1992-03-22"' in html
    assert '<option value="outpatient" selected>' in html


def test_a_draft_means_nothing_in_another_session(client, cpss, program):
    location = client.post(reverse("cm:enroll-new"), _details(program, cpss))["Location"]
    client.logout()
    client.force_login(CPSSFactory().user)
    html = client.get(location).content.decode()
    assert "Jessica" not in html
    assert "That search has expired" in html


def test_an_enroll_existing_error_redirects_and_keeps_what_was_typed(client, cpss, program):
    iq = IntakeQPatientFactory()
    data = _existing(program, cpss, iq, phone="555", address_zip="84101")
    response = client.post(reverse("cm:enroll-existing"), data)
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "Enter a US phone number" in html
    assert 'value="84101"' in html


# --- 8: editing CM details rewrites nothing untouched --------------------------------------


def _edit(client, patient, **changes):
    url = reverse("cm:patient-edit", kwargs={"canonical_patient_id": patient.pk})
    form = client.get(url).context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data.update(changes)
    return client.post(url, data)


def test_an_untouched_consent_time_stays_as_it_was(client, cpss):
    consent = datetime.datetime(2025, 1, 10, 2, 57, tzinfo=ZoneInfo("America/Denver"))
    enrollment = EnrollmentFactory(cpss_provider=cpss, cm_patient__consent_date=consent)
    response = _edit(client, enrollment.canonical_patient, email="new@example.com")
    assert response.status_code == 302
    cm = PatientCM.objects.get()
    assert cm.email == "new@example.com"
    assert cm.consent_date == consent


def test_an_untouched_field_is_never_rewritten_even_when_stored_unnormalized(client, cpss):
    enrollment = EnrollmentFactory(cpss_provider=cpss, cm_patient__phone="8015550123")
    _edit(client, enrollment.canonical_patient, medicaid_id="UT123")
    cm = PatientCM.objects.get()
    assert (cm.phone, cm.medicaid_id) == ("8015550123", "UT123")


def test_a_changed_consent_date_is_saved(client, cpss):
    enrollment = EnrollmentFactory(cpss_provider=cpss)
    _edit(client, enrollment.canonical_patient, consent_date="2025-02-03")
    cm = PatientCM.objects.get()
    assert timezone.localtime(cm.consent_date).date() == datetime.date(2025, 2, 3)


def test_an_edit_error_redirects_and_keeps_what_was_typed(client, cpss):
    enrollment = EnrollmentFactory(cpss_provider=cpss)
    response = _edit(client, enrollment.canonical_patient, phone="555", address_city="Ogden")
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "Enter a US phone number" in html
    assert 'value="Ogden"' in html
    assert PatientCM.objects.get().address_city != "Ogden"


# --- 12: the duplicate check in words and groups --------------------------------------------


def _review(client, program, cpss):
    response = client.post(reverse("cm:enroll-new"), _details(program, cpss), follow=True)
    return response.content.decode()


def test_candidates_are_grouped_as_likely_and_possibly_related(client, cpss, program):
    _on_caseload_of(cpss, first_name="Jessica", last_name="Martinez", date_of_birth=DOB)
    _on_caseload_of(
        cpss, first_name="Jessica", last_name="Martinez", date_of_birth=datetime.date(1992, 3, 23)
    )
    html = _review(client, program, cpss)
    likely, possible = html.split('<h3 id="group-likely">')[1].split('<h3 id="group-possible">')
    assert likely.startswith("Likely the same person")
    assert "Mar 22, 1992" in likely and "Mar 23, 1992" not in likely
    assert possible.startswith("Possibly related") and "Mar 23, 1992" in possible


def test_reasons_are_said_in_words_never_as_codes(client, cpss, program):
    _on_caseload_of(
        cpss, first_name="Jessica", last_name="Martinez", date_of_birth=datetime.date(1992, 3, 23)
    )
    html = _review(client, program, cpss)
    assert "date of birth one digit off" in html
    assert "dob_" not in html and "one_digit" not in html


def test_a_visible_candidate_shows_phone_program_cpss_and_status(client, cpss, program):
    _on_caseload_of(
        cpss, first_name="Jessica", last_name="Martinez", date_of_birth=DOB, phone="(801) 555-0199"
    )
    html = _review(client, program, cpss)
    assert "(801) 555-0199" in html
    assert "active, CPSS Maria Lopez" in html


def test_a_hidden_match_still_says_only_another_caseload(client, cpss, program):
    EnrollmentFactory(
        cm_patient__canonical_patient=PatientCanonicalFactory(
            first_name="Jessica", last_name="Martinez", date_of_birth=DOB
        ),
        cm_patient__phone="(801) 555-0177",
    )
    html = _review(client, program, cpss)
    assert "A possible match exists on another caseload" in html
    assert "(801) 555-0177" not in html
    assert "Likely the same person" not in html


def test_a_refused_status_change_redirects_and_keeps_the_reason_typed(client, cpss):
    enrollment = EnrollmentFactory(cpss_provider=cpss, status="paused")
    url = reverse("cm:enrollment-status", kwargs={"enrollment_id": enrollment.pk})
    response = client.post(url, {"to_status": "graduated", "reason": "Finished the 12 weeks"})
    assert response.status_code == 302
    assert "Finished the 12 weeks" in client.get(response["Location"]).content.decode()
