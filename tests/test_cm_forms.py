"""Every field rule of the CPSS forms, as a table of (field, input, error or normalized value)."""

import datetime

import pytest
from django.utils import timezone

from cm_program.forms import CMDataEditForm, NewPatientEnrollmentForm
from tests.factories import ContingencyManagementFactory, CPSSFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
TOMORROW = (TODAY + datetime.timedelta(days=1)).isoformat()


@pytest.fixture
def valid_data():
    program = ContingencyManagementFactory()
    cpss = CPSSFactory()
    return {
        "first_name": "Jessica",
        "last_name": "Martinez",
        "date_of_birth": "1992-03-22",
        "phone": "(801) 555-0123",
        "email": "jessica@example.com",
        "insurance_primary": "Utah Medicaid",
        "medicaid_id": "UT123456",
        "enrollment_source": "acute_care",
        "consent_date": TODAY.isoformat(),
        "smartphone_access": "yes",
        "emergency_contact_name": "Ana Martinez",
        "emergency_contact_phone": "801-555-0188",
        "address_street": "1 Main St",
        "address_city": "Salt Lake City",
        "address_state": "UT",
        "address_zip": "84101",
        "preferred_language": "English",
        "cm_program": str(program.pk),
        "cpss_provider": str(cpss.pk),
        "pod_assignment": "Pod A",
        "notes": "",
        "submission_key": "k" * 24,
    }


REFUSED = object()

# (field, typed value, cleaned value, or REFUSED when the form must refuse it)
CASES = [
    ("phone", "(801) 555-0123", "(801) 555-0123"),
    ("phone", "801.555.0123", "(801) 555-0123"),
    ("phone", "+1 801 555 0123", "(801) 555-0123"),
    ("phone", "18015550123", "(801) 555-0123"),
    ("phone", "555-0123", REFUSED),
    ("phone", "(101) 555-0123", REFUSED),
    ("phone", "801-055-0123", REFUSED),
    ("phone", "801-555-01234", REFUSED),
    ("phone", "call me", REFUSED),
    # The fictional 555-01xx range of the demo and tests, in each Utah area code.
    ("phone", "385-555-0190", "(385) 555-0190"),
    ("phone", "435 555 0133", "(435) 555-0133"),
    ("phone", "(416) 555-0123", "(416) 555-0123"),  # NANP outside the US, as before
    # Full-width digits (an East Asian keyboard) are stored as ASCII digits.
    ("phone", "\uff18\uff10\uff11\uff15\uff15\uff15\uff10\uff11\uff12\uff13", "(801) 555-0123"),
    ("phone", "(555) 555-0123", REFUSED),  # area code not in service
    ("phone", "+44 20 7946 0958", REFUSED),
    ("phone", "801-555-0123 ext 5", REFUSED),
    ("phone", "801 555 0123 #5", REFUSED),
    ("phone", "801-555-0123, 801-555-0124", REFUSED),
    ("phone", "1-800-FLOWERS", REFUSED),
    ("phone", "8015550123a", REFUSED),
    ("emergency_contact_phone", "8015550188", "(801) 555-0188"),
    ("emergency_contact_phone", "12345", REFUSED),
    ("email", "Jessica@EXAMPLE.com", "Jessica@example.com"),
    ("email", "jessica@", REFUSED),
    ("email", "not an email", REFUSED),
    ("address_zip", "84101", "84101"),
    ("address_zip", "84101-1234", "84101-1234"),
    ("address_zip", "841011234", "84101-1234"),
    ("address_zip", "8410", REFUSED),
    ("address_zip", "84101-12", REFUSED),
    ("address_zip", "ABCDE", REFUSED),
    ("address_state", "ut", "UT"),
    ("address_state", "NY", "NY"),
    ("address_state", "Utah", REFUSED),
    ("address_state", "XX", REFUSED),
    ("date_of_birth", "1992-03-22", datetime.date(1992, 3, 22)),
    ("date_of_birth", "1900-01-01", datetime.date(1900, 1, 1)),
    ("date_of_birth", "1899-12-31", REFUSED),
    ("date_of_birth", TOMORROW, REFUSED),
    ("date_of_birth", "22/03/1992x", REFUSED),
    ("date_of_birth", "", REFUSED),
    ("consent_date", TODAY.isoformat(), TODAY),
    ("consent_date", TOMORROW, REFUSED),
    ("consent_date", "", None),
    ("smartphone_access", "limited", "limited"),
    ("smartphone_access", "sometimes", REFUSED),
    ("enrollment_source", "referral", "referral"),
    ("enrollment_source", "existing_patient", REFUSED),  # Scenario 2's own page sets that one
    ("enrollment_source", "walk_in", REFUSED),
    ("first_name", "", REFUSED),
    ("last_name", "   ", REFUSED),
    ("cm_program", "00000000-0000-0000-0000-000000000000", REFUSED),
    ("cpss_provider", "not-a-uuid", REFUSED),
]


@pytest.mark.parametrize(("field", "value", "expected"), CASES)
def test_new_patient_form_field_rule(valid_data, field, value, expected):
    form = NewPatientEnrollmentForm(data={**valid_data, field: value})
    if expected is REFUSED:
        assert not form.is_valid()
        assert field in form.errors
    else:
        assert form.is_valid(), form.errors
        assert form.cleaned_data[field] == expected


def test_valid_form_has_no_errors(valid_data):
    form = NewPatientEnrollmentForm(data=valid_data)
    assert form.is_valid(), form.errors


def test_emergency_phone_without_a_name_is_refused(valid_data):
    form = NewPatientEnrollmentForm(data={**valid_data, "emergency_contact_name": ""})
    assert "emergency_contact_name" in form.errors


def test_inactive_cpss_is_not_offered(valid_data):
    cpss = CPSSFactory(status="inactive")
    form = NewPatientEnrollmentForm(data={**valid_data, "cpss_provider": str(cpss.pk)})
    assert "cpss_provider" in form.errors


def test_cm_data_stores_blank_text_as_null_and_consent_as_noon_local_time(valid_data):
    form = NewPatientEnrollmentForm(
        data={**valid_data, "medicaid_id": "", "consent_date": "2025-01-15"}
    )
    assert form.is_valid(), form.errors
    data = form.cm_data()
    assert data["medicaid_id"] is None
    assert timezone.localtime(data["consent_date"]).date() == datetime.date(2025, 1, 15)
    assert "first_name" not in data and "cm_program" not in data


def test_edit_form_accepts_existing_patient_source(valid_data):
    form = CMDataEditForm(data={**valid_data, "enrollment_source": "existing_patient"})
    assert form.is_valid(), form.errors
