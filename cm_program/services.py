from django.db import transaction

from cm_program.models import ContingencyManagement, Enrollment, PatientCM
from identity.models import PatientCanonical
from providers.models import ProviderCM


@transaction.atomic
def program_get_or_create(*, name: str, description: str = "") -> ContingencyManagement:
    program, _ = ContingencyManagement.objects.get_or_create(
        name=name, defaults={"description": description}
    )
    return program


@transaction.atomic
def cm_patient_create(*, canonical_patient: PatientCanonical, **fields) -> PatientCM:
    """Create the CM record of a canonical patient (one per person; the database enforces it)."""
    cm_patient = PatientCM(canonical_patient=canonical_patient, **fields)
    cm_patient.full_clean()
    cm_patient.save()
    return cm_patient


@transaction.atomic
def enrollment_create(
    *,
    canonical_patient: PatientCanonical,
    cm_patient: PatientCM,
    cm_program: ContingencyManagement,
    cpss_provider: ProviderCM | None = None,
    **fields,
) -> Enrollment:
    enrollment = Enrollment(
        canonical_patient=canonical_patient,
        cm_patient=cm_patient,
        cm_program=cm_program,
        cpss_provider=cpss_provider,
        **fields,
    )
    enrollment.full_clean()
    enrollment.save()
    return enrollment
