import uuid
from decimal import Decimal

from django.db import transaction

from identity.models import PatientCanonical
from intakeq_link.models import IntakeQPatient, PatientIntakeQLink


@transaction.atomic
def intakeq_link_create(
    *,
    canonical_patient: PatientCanonical,
    intakeq_patient: IntakeQPatient,
    confidence_score: Decimal,
    linked_by: uuid.UUID | None = None,
) -> PatientIntakeQLink:
    link = PatientIntakeQLink(
        canonical_patient=canonical_patient,
        intakeq_patient=intakeq_patient,
        confidence_score=confidence_score,
        linked_by=linked_by,
    )
    link.full_clean()
    link.save()
    return link
