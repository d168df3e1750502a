"""One definition of "an IntakeQ row" (issue 11, M2): a client id not blank after trimming.

The old CM app wrote `patients` rows with the client id NULL, empty or whitespace; every reader
must treat all of those as the old app's, never as IntakeQ patients.
"""

import datetime
import uuid

import pytest
from django.db import connection
from django.urls import reverse

from cm_program import selectors as cm_selectors
from identity.matching import find_candidates
from intakeq_link.client_ids import is_intakeq_client_id
from intakeq_link.models import IntakeQPatient
from legacy.plan import Person
from tests.factories import IntakeQPatientFactory

pytestmark = pytest.mark.django_db

DOB = datetime.date(1985, 6, 15)
BLANK_IDS = [None, "", "   ", "\t", " \t\r\n\x0b\x0c "]
GENUINE_IDS = ["IQ-1", " IQ-2 ", "\tIQ-3", "\u00a0"]  # a no-break space is not ASCII whitespace


def _blank_rows(**fields):
    return [IntakeQPatientFactory(intakeq_client_id=client_id, **fields) for client_id in BLANK_IDS]


@pytest.mark.parametrize("client_id", BLANK_IDS + GENUINE_IDS)
def test_the_database_function_and_its_python_twin_agree(client_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT cm_is_intakeq_client_id(%s)", [client_id])
        in_sql = cursor.fetchone()[0]
    assert in_sql is (client_id in GENUINE_IDS)
    assert is_intakeq_client_id(client_id) is in_sql


def test_from_intakeq_keeps_only_rows_with_a_non_blank_client_id():
    _blank_rows()
    genuine = IntakeQPatientFactory(intakeq_client_id=" IQ-7 ")
    assert list(IntakeQPatient.objects.from_intakeq()) == [genuine]


@pytest.mark.parametrize("client_id", BLANK_IDS)
def test_a_row_with_a_blank_client_id_is_not_from_intakeq(client_id):
    assert not IntakeQPatientFactory.build(intakeq_client_id=client_id).is_from_intakeq


def test_psychiatry_never_lists_or_opens_rows_with_a_blank_client_id(client, staff_user):
    rows = _blank_rows(last_name="Legacyrow")
    client.force_login(staff_user("Psychiatry"))
    listing = client.get(reverse("intakeq:patient-list"), {"q": "Legacyrow"})
    assert list(listing.context["page"].object_list) == []
    for row in rows:
        response = client.get(reverse("intakeq:patient-detail", args=[row.pk]))
        assert response.status_code == 404


def test_the_matcher_never_proposes_rows_with_a_blank_client_id():
    _blank_rows(first_name="John", last_name="Smith", date_of_birth=DOB)
    candidates = find_candidates(first_name="John", last_name="Smith", date_of_birth=DOB)
    assert [c for c in candidates if c.source == "intakeq"] == []


def test_the_enrollment_search_and_pick_ignore_rows_with_a_blank_client_id():
    rows = _blank_rows(first_name="John", last_name="Smith", date_of_birth=DOB)
    found = cm_selectors.intakeq_patient_search(
        first_name="John", last_name="Smith", date_of_birth=DOB
    )
    assert found == []
    assert [cm_selectors.intakeq_patient_for_enrollment(pk=row.pk) for row in rows] == [None] * 5


@pytest.mark.parametrize("client_id", BLANK_IDS)
def test_the_legacy_migration_reads_a_blank_client_id_as_an_old_app_row(client_id):
    person = Person(str(uuid.uuid4()), client_id, "John", "Smith", DOB, True, rank=0)
    assert not person.from_intakeq


def test_the_partial_index_serves_the_intakeq_rows_by_date_of_birth():
    # A table of IntakeQ rows the planner knows (ANALYZE): on an empty, never-analyzed table its
    # costs tie, and which index it picks followed the pages earlier tests left behind.
    IntakeQPatient.objects.bulk_create(IntakeQPatientFactory.build_batch(300))
    queryset = IntakeQPatient.objects.from_intakeq().filter(date_of_birth=DOB)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE patients")
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    # Either index asked of the IntakeQ table's owners serves it; both carry the definition.
    assert "patients_cm_intakeq_dob_idx" in plan or "patients_cm_intakeq_block_idx" in plan
