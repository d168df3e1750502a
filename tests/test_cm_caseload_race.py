"""Two CPSS assignments racing for the last caseload slot: exactly one wins (real transactions)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from cm_program import services, supervisor_requests
from cm_program.models import Enrollment, PatientCM, SupervisorRequest
from tests.factories import (
    ContingencyManagementFactory,
    CPSSFactory,
    EnrollmentFactory,
    PatientCMFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _race(cpss, program, cm_patients):
    barrier = threading.Barrier(len(cm_patients))
    outcomes = []

    def assign(cm_patient):
        try:
            barrier.wait(timeout=10)
            services.enrollment_create(
                canonical_patient=cm_patient.canonical_patient,
                cm_patient=cm_patient,
                cm_program=program,
                cpss_provider=cpss,
            )
            outcomes.append("enrolled")
        except ValidationError as exc:
            outcomes.append(exc.message_dict["cpss_provider"][0])
        finally:
            connection.close()

    threads = [threading.Thread(target=assign, args=(p,)) for p in cm_patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_racing_assignments_cannot_exceed_the_caseload():
    cpss = CPSSFactory(max_caseload=2)
    EnrollmentFactory(cpss_provider=cpss)  # one slot left
    program = ContingencyManagementFactory()
    outcomes = _race(cpss, program, [PatientCMFactory(), PatientCMFactory()])
    assert sorted(outcomes, key=len) == [
        "enrolled",
        f"{cpss}'s caseload is full (2 of 2 active enrollments). Choose another CPSS.",
    ]
    assert Enrollment.objects.filter(cpss_provider=cpss, status="active").count() == 2


def test_racing_enrollments_of_one_person_make_one_cm_record():
    cpss = CPSSFactory()
    program = ContingencyManagementFactory()
    barrier = threading.Barrier(2)
    errors = []

    def enroll():
        try:
            barrier.wait(timeout=10)
            services.cm_patient_enroll_new(
                actor=cpss.user,
                first_name="Jessica",
                last_name="Martinez",
                date_of_birth="1992-03-22",
                cm_data={"phone": "(801) 555-0123"},
                cm_program=program,
                cpss_provider=cpss,
            )
        except ValidationError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=enroll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(errors) == 1
    assert PatientCM.objects.count() == 1
    assert Enrollment.objects.count() == 1


def test_a_double_clicked_reactivation_request_queues_one():
    cpss = CPSSFactory()
    enrollment = EnrollmentFactory(cpss_provider=cpss, status="paused")
    barrier = threading.Barrier(3)

    def ask():
        try:
            barrier.wait(timeout=10)
            supervisor_requests.supervisor_request_reactivation_create(
                actor=cpss.user, enrollment=enrollment, reason="Back from travel."
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert SupervisorRequest.objects.filter(enrollment=enrollment, status="pending").count() == 1
