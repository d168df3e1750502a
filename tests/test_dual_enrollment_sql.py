"""The seed's 'Detect Dual Enrollment' query, verbatim, finds exactly the people in both systems."""

import pytest

from tests.factories import (
    EnrollmentFactory,
    IntakeQPatientFactory,
    PatientCanonicalFactory,
    PatientCMFactory,
    PatientIntakeQLinkFactory,
)

pytestmark = pytest.mark.django_db

SEED_DUAL_ENROLLMENT_SQL = """
SELECT 
  pc.first_name,
  pc.last_name,
  pc.date_of_birth,
  CASE WHEN pil.intakeq_patient_id IS NOT NULL THEN 'Yes' ELSE 'No' END as has_intakeq,
  CASE WHEN pcm.id IS NOT NULL THEN 'Yes' ELSE 'No' END as has_cm
FROM patients_canonical pc
LEFT JOIN patients_intakeq_link pil ON pc.id = pil.canonical_patient_id
LEFT JOIN patients_cm pcm ON pc.id = pcm.canonical_patient_id
WHERE pil.intakeq_patient_id IS NOT NULL AND pcm.id IS NOT NULL;
"""  # noqa: W291 - copied verbatim from the seed, trailing space included


def test_seed_dual_enrollment_sql_returns_exactly_the_dual_enrolled(dictfetchall):
    dual = [PatientCMFactory() for _ in range(2)]
    for cm in dual:
        PatientIntakeQLinkFactory(canonical_patient=cm.canonical_patient)
        EnrollmentFactory(cm_patient=cm)
    EnrollmentFactory()  # CM only
    PatientIntakeQLinkFactory()  # IntakeQ only
    PatientCanonicalFactory()  # neither
    IntakeQPatientFactory()  # an EMR patient never linked

    rows = dictfetchall(SEED_DUAL_ENROLLMENT_SQL)

    expected = {
        (
            cm.canonical_patient.first_name,
            cm.canonical_patient.last_name,
            cm.canonical_patient.date_of_birth,
        )
        for cm in dual
    }
    assert {(r["first_name"], r["last_name"], r["date_of_birth"]) for r in rows} == expected
    assert len(rows) == 2
    assert {(r["has_intakeq"], r["has_cm"]) for r in rows} == {("Yes", "Yes")}
