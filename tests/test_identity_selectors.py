"""The complete patient view in two queries; the dual-enrollment report equals the seed SQL."""

import uuid

import pytest

from identity.models import PatientCanonical
from identity.selectors import dual_enrollment_report, get_complete_patient_view
from tests.factories import (
    EnrollmentFactory,
    IntakeQPatientFactory,
    PatientCanonicalFactory,
    PatientCMFactory,
    PatientIntakeQLinkFactory,
)
from tests.test_dual_enrollment_sql import SEED_DUAL_ENROLLMENT_SQL

pytestmark = pytest.mark.django_db


def test_complete_view_of_a_dual_enrolled_person_takes_two_queries(django_assert_num_queries):
    cm = PatientCMFactory()
    link = PatientIntakeQLinkFactory(canonical_patient=cm.canonical_patient)
    enrollments = [EnrollmentFactory(cm_patient=cm) for _ in range(3)]

    with django_assert_num_queries(2):
        view = get_complete_patient_view(cm.canonical_patient_id)
        providers = {e.cpss_provider.last_name for e in view.enrollments}
        programs = {e.cm_program.name for e in view.enrollments}
        intakeq_name = view.intakeq.last_name

    assert view.identity.pk == cm.canonical_patient_id
    assert view.cm.pk == cm.pk
    assert view["intakeq"].pk == link.intakeq_patient_id
    assert intakeq_name == link.intakeq_patient.last_name
    assert view.intakeq_link.pk == link.pk
    assert {e.pk for e in view.enrollments} == {e.pk for e in enrollments}
    assert providers == {e.cpss_provider.last_name for e in enrollments}
    assert programs == {e.cm_program.name for e in enrollments}


def test_complete_view_of_a_person_with_nothing_else_is_empty_not_an_error(
    django_assert_num_queries,
):
    patient = PatientCanonicalFactory()

    with django_assert_num_queries(2):
        view = get_complete_patient_view(patient.pk)

    assert (view.cm, view.intakeq, view.intakeq_link, view.enrollments) == (None, None, None, [])


def test_complete_view_of_an_unknown_id_raises_does_not_exist():
    with pytest.raises(PatientCanonical.DoesNotExist):
        get_complete_patient_view(uuid.uuid4())


def _mixed_population():
    dual = [PatientCMFactory() for _ in range(3)]
    for cm in dual:
        PatientIntakeQLinkFactory(canonical_patient=cm.canonical_patient)
        EnrollmentFactory(cm_patient=cm)
    EnrollmentFactory(cm_patient=dual[0])  # a second program: still one row in the report
    EnrollmentFactory()  # CM only
    PatientIntakeQLinkFactory()  # IntakeQ only
    PatientCanonicalFactory()  # neither
    IntakeQPatientFactory()  # never linked
    return dual


def test_dual_enrollment_report_equals_the_seeds_sql(dictfetchall):
    _mixed_population()

    report = dual_enrollment_report()

    def key(row):
        return (row["last_name"], row["first_name"], row["date_of_birth"])

    seed_rows = sorted(dictfetchall(SEED_DUAL_ENROLLMENT_SQL), key=key)
    assert sorted(report, key=key) == seed_rows
    assert len(report) == 3


def test_dual_enrollment_report_takes_one_query(django_assert_num_queries):
    dual = _mixed_population()

    with django_assert_num_queries(1):
        report = dual_enrollment_report()

    assert {r["last_name"] for r in report} == {cm.canonical_patient.last_name for cm in dual}
    assert {(r["has_intakeq"], r["has_cm"]) for r in report} == {("Yes", "Yes")}
