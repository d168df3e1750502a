"""Reads across a person's records. identity imports no other app: it follows reverse relations
(``cm_record``, ``intakeq_link``, ``enrollments``) by name."""

import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Case, Prefetch, Q, QuerySet, Value, When

from identity.models import NormalizeName, PatientCanonical

_HAS_INTAKEQ = Q(intakeq_link__intakeq_patient__isnull=False)
_HAS_CM = Q(cm_record__isnull=False)


@dataclass(frozen=True)
class CompletePatientView:
    """The seed's getCompletePatientView result; also readable as view["cm"] like its object."""

    identity: PatientCanonical
    cm: object | None  # cm_program.PatientCM
    intakeq: object | None  # intakeq_link.IntakeQPatient
    intakeq_link: object | None  # intakeq_link.PatientIntakeQLink (score, who, when)
    enrollments: list = field(default_factory=list)  # cm_program.Enrollment, provider joined

    def __getitem__(self, key):
        return getattr(self, key)


def _reverse_one_to_one(instance, name):
    try:
        return getattr(instance, name)
    except ObjectDoesNotExist:
        return None


def get_complete_patient_view(canonical_patient_id: uuid.UUID | str) -> CompletePatientView:
    """Identity, CM data, IntakeQ patient and enrollments in two queries (the seed needs four).

    Raises PatientCanonical.DoesNotExist for an unknown id; the caller decides what that means.
    """
    enrollment_model = PatientCanonical._meta.get_field("enrollments").related_model
    patient = (
        PatientCanonical.objects.select_related("cm_record", "intakeq_link__intakeq_patient")
        .prefetch_related(
            Prefetch(
                "enrollments",
                queryset=enrollment_model.objects.select_related("cpss_provider", "cm_program"),
            )
        )
        .get(pk=canonical_patient_id)
    )
    link = _reverse_one_to_one(patient, "intakeq_link")
    return CompletePatientView(
        identity=patient,
        cm=_reverse_one_to_one(patient, "cm_record"),
        intakeq=link.intakeq_patient if link is not None else None,
        intakeq_link=link,
        enrollments=list(patient.enrollments.all()),
    )


def dual_enrollment_report(*, with_ids: bool = False) -> list[dict]:
    """The seed's 'Detect Dual Enrollment' rows, in one query: people both in CM and IntakeQ.

    Each row has first_name, last_name, date_of_birth, has_intakeq and has_cm ('Yes'/'No', as
    the seed's SQL gives them; its WHERE makes both 'Yes'); ``with_ids`` adds the canonical
    patient's ``id`` (for the page-view log).
    """
    columns = ["first_name", "last_name", "date_of_birth", "has_intakeq", "has_cm"]
    return list(
        PatientCanonical.objects.filter(_HAS_INTAKEQ, _HAS_CM)
        .annotate(
            has_intakeq=Case(When(_HAS_INTAKEQ, then=Value("Yes")), default=Value("No")),
            has_cm=Case(When(_HAS_CM, then=Value("Yes")), default=Value("No")),
        )
        .order_by("last_name", "first_name", "date_of_birth")
        .values(*(["id", *columns] if with_ids else columns))
    )


def dual_enrollment_count() -> int:
    """How many rows dual_enrollment_report has, counted in the database."""
    return PatientCanonical.objects.filter(_HAS_INTAKEQ, _HAS_CM).count()


def canonical_patients_with_identity(
    *, first_name: str, last_name: str, date_of_birth
) -> QuerySet[PatientCanonical]:
    """Who is recorded with this name and date of birth as the database compares names (case,
    accents and extra spaces aside): at most one person, by the normalized unique constraint."""
    return PatientCanonical.objects.filter(
        first_name_normalized=NormalizeName(Value(first_name)),
        last_name_normalized=NormalizeName(Value(last_name)),
        date_of_birth=date_of_birth,
    )


# Longer than any real chain; a loop (which only raw SQL could write) stops here.
_MAX_MERGE_CHAIN = 20


def person_kept(patient: PatientCanonical) -> PatientCanonical:
    """The person who holds a merged person's rows now: merges followed to the end (A into B,
    B into C: C). The patient itself when not merged; the last one reached on a loop."""
    seen = {patient.pk}
    for _ in range(_MAX_MERGE_CHAIN):
        if patient.merged_into_id is None or patient.merged_into_id in seen:
            return patient
        # The descriptor: a select_related first hop costs no query.
        patient = patient.merged_into
        seen.add(patient.pk)
    return patient
