"""Values the site must refuse or normalize (issue #11, L5), in forms, services, admin and the
database."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from cm_program.forms import IdentityFields
from cm_program.models import Enrollment
from cm_program.validators import normalize_us_phone
from identity.models import PatientCanonical
from identity.services import find_or_create_canonical_patient
from providers.services import provider_cm_create
from tests.factories import EnrollmentFactory, PatientCMFactory, ProviderCMFactory

pytestmark = pytest.mark.django_db

DOB = datetime.date(1985, 6, 15)
BAD_NAMES = [
    pytest.param("!!!", id="punctuation-only"),
    pytest.param("'.-", id="normalizes-to-blank"),
    pytest.param("Jo\u200bhn", id="zero-width-space"),
    pytest.param("\u202eJohn", id="rtl-override"),
    pytest.param("Jo\nhn", id="line-feed"),
    pytest.param("Jo\rhn", id="carriage-return"),
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_the_service_refuses_a_name_without_a_letter_or_with_invisible_characters(name):
    with pytest.raises(ValidationError) as refused:
        find_or_create_canonical_patient(first_name=name, last_name="Smith", date_of_birth=DOB)
    assert "first_name" in refused.value.message_dict
    assert not PatientCanonical.objects.exists()


@pytest.mark.parametrize("name", BAD_NAMES)
def test_the_enrollment_form_refuses_such_a_name(name):
    form = IdentityFields({"first_name": "Ann", "last_name": name, "date_of_birth": "1985-06-15"})
    assert not form.is_valid()
    assert "last_name" in form.errors


@pytest.mark.parametrize("name", BAD_NAMES)
def test_the_model_refuses_such_a_name_for_the_admin(name):
    patient = PatientCanonical(first_name=name, last_name="Smith", date_of_birth=DOB)
    with pytest.raises(ValidationError) as refused:
        patient.full_clean()
    assert "first_name" in refused.value.message_dict


@pytest.mark.parametrize("name", ["José", "O'Brien", "Nguyễn", "李", "Mary-Jane"])
def test_real_names_are_accepted(name):
    patient, created = find_or_create_canonical_patient(
        first_name=name, last_name="Smith", date_of_birth=DOB
    )
    assert created and patient.first_name == name


@pytest.mark.parametrize(
    "typed",
    ["٨٠١٥٥٥٠١٢٣", "۸۰۱-۵۵۵-۰۱۲۳", "（８０１）５５５－０１２３", "+1 801 555 0123"],
)
def test_phones_in_any_digits_are_stored_in_ascii(typed):
    assert normalize_us_phone(typed) == "(801) 555-0123"


def test_a_phone_with_an_invisible_character_is_refused():
    with pytest.raises(ValidationError):
        normalize_us_phone("801\u200b555 0123")


def test_the_admin_and_services_store_phones_normalized():
    cm_patient = PatientCMFactory()
    cm_patient.phone = "٨٠١٥٥٥٠١٢٣"
    cm_patient.emergency_contact_phone = "（８０１）５５５－０１９９"
    cm_patient.full_clean()
    assert (cm_patient.phone, cm_patient.emergency_contact_phone) == (
        "(801) 555-0123",
        "(801) 555-0199",
    )


@pytest.mark.parametrize("field", ["total_points", "current_streak"])
def test_the_database_refuses_negative_points_and_streaks(field):
    enrollment = EnrollmentFactory()
    with pytest.raises(IntegrityError, match=f"cm_enrollments_{field}_check"), transaction.atomic():
        Enrollment.objects.filter(pk=enrollment.pk).update(**{field: -1})


@pytest.mark.parametrize("field", ["total_points", "current_streak"])
def test_the_admin_refuses_negative_points_and_streaks(field):
    enrollment = EnrollmentFactory()
    setattr(enrollment, field, -5)
    with pytest.raises(ValidationError) as refused:
        enrollment.full_clean()
    assert field in refused.value.message_dict


def test_a_negative_caseload_limit_is_refused_by_the_model_and_the_database():
    provider = ProviderCMFactory()
    provider.max_caseload = -1
    with pytest.raises(ValidationError):
        provider.full_clean()
    with (
        pytest.raises(IntegrityError, match="providers_cm_max_caseload_check"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE providers_cm SET max_caseload = -1 WHERE id = %s", [provider.pk])


def test_two_providers_without_email_can_both_be_saved():
    first = provider_cm_create(first_name="Ann", last_name="One", email="")
    second = provider_cm_create(first_name="Bea", last_name="Two", email="  ")
    assert (first.email, second.email) == (None, None)


def test_the_database_refuses_a_blank_provider_email():
    provider = ProviderCMFactory()
    with (
        pytest.raises(IntegrityError, match="providers_cm_email_not_blank_check"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE providers_cm SET email = '' WHERE id = %s", [provider.pk])
