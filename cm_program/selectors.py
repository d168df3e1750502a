"""Reads for the CPSS pages. Every patient read is scoped by ``visible_to(user)``."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q

from cm_program.models import (
    ContingencyManagement,
    Enrollment,
    EnrollmentStatusChange,
    FormSubmission,
    ParticipationStatus,
    PatientCM,
    sees_every_cm_patient,
)
from identity.matching import Candidate, find_candidates
from identity.models import NormalizeName, PatientCanonical
from identity.normalization import normalize_name
from intakeq_link.models import IntakeQPatient, PatientIntakeQLink
from providers.models import ProviderCM


def canonical_patients_visible_to(user):
    """The people whose CM page the user may open (deny by default, like visible_to)."""
    visible = Enrollment.objects.visible_to(user).filter(canonical_patient=OuterRef("pk"))
    if sees_every_cm_patient(user):
        return PatientCanonical.objects.filter(
            Exists(PatientCM.objects.filter(canonical_patient=OuterRef("pk"))) | Exists(visible)
        )
    return PatientCanonical.objects.filter(Exists(visible))


def enrollment_list(*, user):
    """One row per enrollment, everything a list row shows joined in: a constant query count."""
    return (
        Enrollment.objects.visible_to(user)
        .select_related("canonical_patient", "cm_patient", "cm_program", "cpss_provider")
        .order_by(
            "canonical_patient__last_name",
            "canonical_patient__first_name",
            "cm_program__name",
            "id",
        )
    )


@dataclass(frozen=True)
class PatientPage:
    patient: PatientCanonical
    cm_record: PatientCM | None
    enrollments: list
    intakeq_link: PatientIntakeQLink | None


def patient_page(*, user, patient: PatientCanonical) -> PatientPage:
    enrollments = list(
        Enrollment.objects.visible_to(user)
        .filter(canonical_patient=patient)
        .select_related("cm_program", "cpss_provider")
        .prefetch_related(
            Prefetch(
                "status_changes",
                queryset=EnrollmentStatusChange.objects.select_related("changed_by").order_by(
                    "-changed_at", "-id"
                ),
            )
        )
    )
    return PatientPage(
        patient=patient,
        cm_record=PatientCM.objects.filter(canonical_patient=patient).first(),
        enrollments=enrollments,
        intakeq_link=(
            PatientIntakeQLink.objects.filter(canonical_patient=patient)
            .select_related("intakeq_patient")
            .first()
        ),
    )


def programs_open():
    return ContingencyManagement.objects.filter(is_active=True).order_by("name")


def cpss_assignable():
    """Active CM staff with their current number of active enrollments (``active_count``)."""
    return (
        ProviderCM.objects.filter(status=ProviderCM.Status.ACTIVE)
        .exclude(role=ProviderCM.Role.ADMIN)
        .annotate(
            active_count=Count(
                "enrollments", filter=Q(enrollments__status=ParticipationStatus.ACTIVE)
            )
        )
        .order_by("last_name", "first_name")
    )


def provider_of(user) -> ProviderCM | None:
    return ProviderCM.objects.filter(user=user).first() if user.is_authenticated else None


def likely_existing_people(
    *, first_name: str, last_name: str, date_of_birth: datetime.date
) -> list[Candidate]:
    """The matcher's candidates; an IntakeQ row already linked is shown as its canonical person.

    So the choice is always between people, and picking one never tries to link a record twice.
    """
    candidates = find_candidates(
        first_name=first_name, last_name=last_name, date_of_birth=date_of_birth
    )
    links = {
        link.intakeq_patient_id: link.canonical_patient
        for link in PatientIntakeQLink.objects.filter(
            intakeq_patient_id__in=[c.pk for c in candidates if c.source == "intakeq"],
            canonical_patient__isnull=False,
        ).select_related("canonical_patient")
    }
    seen = {c.pk for c in candidates if c.source == "canonical"}
    people = []
    for candidate in candidates:
        if candidate.source == "intakeq" and candidate.pk in links:
            person = links[candidate.pk]
            if person.pk in seen:
                continue
            seen.add(person.pk)
            candidate = Candidate(
                source="canonical",
                pk=person.pk,
                first_name=person.first_name,
                last_name=person.last_name,
                date_of_birth=person.date_of_birth,
                score=candidate.score,
                reasons=(*candidate.reasons, "linked IntakeQ record"),
            )
        people.append(candidate)
    return people


def intakeq_patient_search(
    *, last_name: str, date_of_birth: datetime.date, first_name: str = ""
) -> list[IntakeQPatient]:
    """IntakeQ patients (never the old CM app's rows) by date of birth and name prefix."""
    rows = (
        IntakeQPatient.objects.from_intakeq()
        .filter(date_of_birth=date_of_birth)
        .alias(last_norm=NormalizeName("last_name"), first_norm=NormalizeName("first_name"))
        .filter(last_norm__startswith=normalize_name(last_name))
    )
    if first_name.strip():
        rows = rows.filter(first_norm__startswith=normalize_name(first_name))
    found = {row.pk: row for row in rows.order_by("last_name", "first_name")[:50]}
    if first_name.strip():
        # The matcher also finds misspellings the prefix search misses.
        extra = [
            c.pk
            for c in find_candidates(
                first_name=first_name, last_name=last_name, date_of_birth=date_of_birth
            )
            if c.source == "intakeq" and c.pk not in found
        ]
        for row in IntakeQPatient.objects.from_intakeq().filter(pk__in=extra):
            found[row.pk] = row
    return list(found.values())


def intakeq_patient_for_enrollment(*, pk) -> IntakeQPatient | None:
    return IntakeQPatient.objects.from_intakeq().filter(pk=pk).first()


def intakeq_link_confidence(*, intakeq_patient: IntakeQPatient) -> tuple[Decimal, tuple]:
    """How sure the matcher is that the canonical person (made from or matching this record) is it.

    The canonical row comes from the IntakeQ identity, so this is normally 1.00, as in the seed.
    """
    if intakeq_patient.date_of_birth is None:
        return Decimal("0.00"), ("no date of birth",)
    for candidate in find_candidates(
        first_name=intakeq_patient.first_name,
        last_name=intakeq_patient.last_name,
        date_of_birth=intakeq_patient.date_of_birth,
    ):
        if candidate.source == "intakeq" and candidate.pk == intakeq_patient.pk:
            return candidate.score, candidate.reasons
    return Decimal("1.00"), ("canonical record made from this IntakeQ record",)


def search_value(term: str):
    """A name-or-DOB search term as a date when it is one, else normalized text."""
    term = term.strip()
    for parse in (
        datetime.date.fromisoformat,
        lambda t: datetime.datetime.strptime(t, "%m/%d/%Y").date(),  # noqa: DTZ007 - a date
    ):
        try:
            return parse(term)
        except ValueError:
            continue
    return normalize_name(term)


def name_or_dob_q(term: str, prefix: str = "canonical_patient__") -> Q:
    value = search_value(term)
    if isinstance(value, datetime.date):
        return Q(**{f"{prefix}date_of_birth": value})
    q = Q()
    for word in value.split():
        q &= Q(**{f"{prefix}first_name_normalized__contains": word}) | Q(
            **{f"{prefix}last_name_normalized__contains": word}
        )
    return q


def used_submission(*, key: str, user) -> FormSubmission | None:
    """The earlier submit that used this one-time form key, if any (a resent form)."""
    if not key or not user.is_authenticated:
        return None
    return (
        FormSubmission.objects.filter(key=key, user=user)
        .select_related("enrollment__canonical_patient")
        .first()
    )
