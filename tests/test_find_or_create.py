"""find_or_create_canonical_patient: one row per person, under concurrency and against bad input."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from identity.models import PatientCanonical
from identity.services import find_or_create_canonical_patient

pytestmark = pytest.mark.django_db

DOB = datetime.date(1992, 3, 22)


def test_creates_then_finds_the_same_person_in_another_spelling():
    first, created = find_or_create_canonical_patient(
        first_name="Jessica", last_name="Martinez", date_of_birth=DOB
    )
    again, created_again = find_or_create_canonical_patient(
        first_name="  JESSICA ", last_name="martínez", date_of_birth="1992-03-22"
    )

    assert created is True
    assert created_again is False
    assert again.pk == first.pk
    assert PatientCanonical.objects.count() == 1


def test_names_are_stored_as_typed_minus_surrounding_spaces():
    patient, _ = find_or_create_canonical_patient(
        first_name="  D'Angelo ", last_name="Smith-Jones", date_of_birth=DOB
    )
    patient.refresh_from_db()

    assert (patient.first_name, patient.last_name) == ("D'Angelo", "Smith-Jones")
    assert (patient.first_name_normalized, patient.last_name_normalized) == (
        "dangelo",
        "smith jones",
    )


@pytest.mark.parametrize(
    ("spelling_a", "spelling_b"),
    [(("O'Brien", "Sean"), ("OBrien", "sean")), (("Smith-Jones", "Ana"), ("smith jones", "ANA"))],
)
def test_punctuation_in_hyphenated_and_apostrophe_names_is_one_person(spelling_a, spelling_b):
    a, _ = find_or_create_canonical_patient(
        last_name=spelling_a[0], first_name=spelling_a[1], date_of_birth=DOB
    )
    b, created = find_or_create_canonical_patient(
        last_name=spelling_b[0], first_name=spelling_b[1], date_of_birth=DOB
    )

    assert created is False
    assert b.pk == a.pk


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_in_any_casing_make_exactly_one_row():
    spellings = [
        ("Jessica", "Martinez"),
        ("JESSICA", "MARTINEZ"),
        ("jessica", "martinez"),
        ("  Jessica ", "Martínez"),
        ("JéSSICA", "martinez "),
        ("jESSICA", "mARTINEZ"),
        ("Jessica", "Martinez"),
        ("JESSICA", "Martínez"),
        ("jessica ", "MARTÍNEZ"),
        ("Jessica", "martinez"),
    ]
    barrier = threading.Barrier(len(spellings))
    results, errors = [], []

    def enroll(first_name, last_name):
        try:
            barrier.wait(timeout=30)
            results.append(
                find_or_create_canonical_patient(
                    first_name=first_name, last_name=last_name, date_of_birth=DOB
                )
            )
        except Exception as exc:  # collected, asserted on below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=enroll, args=spelling) for spelling in spellings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(results) == len(spellings)
    assert PatientCanonical.objects.count() == 1
    assert len({patient.pk for patient, _ in results}) == 1
    assert sum(1 for _, created in results if created) == 1


@pytest.mark.parametrize(
    ("first_name", "last_name", "date_of_birth", "field"),
    [
        ("", "Martinez", DOB, "first_name"),
        ("   ", "Martinez", DOB, "first_name"),
        ("Jessica", "\t\n ", DOB, "last_name"),
        (None, "Martinez", DOB, "first_name"),
        ("Jessica", "Martinez", "not a date", "date_of_birth"),
        ("Jessica", "Martinez", "1992-02-30", "date_of_birth"),
        ("Jessica", "Martinez", 19920322, "date_of_birth"),
        ("Jessica", "Martinez", datetime.date(1899, 12, 31), "date_of_birth"),
        ("Jessica", "Martinez", "future", "date_of_birth"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(
    first_name, last_name, date_of_birth, field
):
    if date_of_birth == "future":
        date_of_birth = timezone.localdate() + datetime.timedelta(days=1)

    with pytest.raises(ValidationError) as excinfo:
        find_or_create_canonical_patient(
            first_name=first_name, last_name=last_name, date_of_birth=date_of_birth
        )

    assert field in excinfo.value.message_dict
    assert excinfo.value.message_dict[field][0].endswith(".")
    assert PatientCanonical.objects.count() == 0
