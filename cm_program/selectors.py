"""Reads for the CPSS pages. Every patient read is scoped by ``visible_to(user)``."""

import contextlib
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q

from cm_program.models import (
    ContingencyManagement,
    Enrollment,
    EnrollmentStatusChange,
    FormSubmission,
    ParticipationStatus,
    PatientCM,
    SupervisorRequest,
    sees_every_cm_patient,
)
from cm_program.validators import normalize_us_phone
from identity.dates import parse_date
from identity.matching import Candidate, find_candidates, review_min_score
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


def people_in_cm_hidden_from(user, *, pks) -> set:
    """Of these canonical ids, the people in the CM program (a CM record or an enrollment) whose
    CM page ``user`` may not open: their name, record and programs stay hidden from them."""
    in_cm = set(
        PatientCM.objects.filter(canonical_patient_id__in=pks).values_list(
            "canonical_patient_id", flat=True
        )
    ) | set(
        Enrollment.objects.filter(canonical_patient_id__in=pks).values_list(
            "canonical_patient_id", flat=True
        )
    )
    if not in_cm:
        return set()
    visible = set(
        canonical_patients_visible_to(user).filter(pk__in=in_cm).values_list("pk", flat=True)
    ) | set(
        PatientCanonical.objects.visible_to(user).filter(pk__in=in_cm).values_list("pk", flat=True)
    )
    return in_cm - visible


# The list's sort orders: each one an index serves (cm_program 0007 and identity's name and date
# of birth indexes), so a page costs the same at 1,000 or 100,000 enrollments. The last keys
# only break ties. "-<key>" reverses every column (a backward scan of the same index).
LIST_SORTS = {
    "name": (
        "canonical_patient__last_name_normalized",
        "canonical_patient__first_name_normalized",
        "canonical_patient_id",
        "id",
    ),
    "dob": ("canonical_patient__date_of_birth", "canonical_patient_id", "id"),
    "status": ("status", "-enrollment_date", "id"),
    # Enrollments without a CPSS sort last, so the join stays outer: this one is a top-N sort
    # of the visible rows (a CPSS's own caseload is small; a supervisor's is everyone).
    "cpss": ("cpss_provider__last_name", "cpss_provider__first_name", "cpss_provider_id", "id"),
    "enrolled": ("enrollment_date", "id"),
    "points": ("total_points", "id"),
}
LIST_DEFAULT_SORT = "name"
# Only what a row shows (no CM record, no notes, no Medicaid verification), as plain values:
# building four model instances per row cost more than the query.
LIST_COLUMNS = (
    "id", "canonical_patient_id",
    "canonical_patient__last_name", "canonical_patient__first_name",
    "canonical_patient__date_of_birth",
    "cm_program__name", "status",
    "cpss_provider__first_name", "cpss_provider__last_name",
    "pod_assignment", "total_points", "current_streak", "enrollment_date",
)  # fmt: skip


def list_ordering(sort: str) -> tuple[str, ...]:
    """The ORDER BY of a sort key ("name", "-points", ...); an unknown key sorts by name."""
    key = sort.removeprefix("-")
    if key not in LIST_SORTS:
        return LIST_SORTS[LIST_DEFAULT_SORT]
    if not sort.startswith("-"):
        return LIST_SORTS[key]
    return tuple(f[1:] if f.startswith("-") else f"-{f}" for f in LIST_SORTS[key])


def enrollment_list(*, user, sort: str = LIST_DEFAULT_SORT):
    """One row per enrollment, tuples of LIST_COLUMNS: a constant query count, and an order an
    index serves (LIST_SORTS)."""
    return (
        Enrollment.objects.visible_to(user)
        # A condition on the person makes their join an inner one, which PostgreSQL may then
        # drive from the name or date-of-birth index (an outer join must read every
        # enrollment and sort). An enrollment without a person has no row to show anyway.
        .filter(canonical_patient__date_of_birth__isnull=False)
        .order_by(*list_ordering(sort))
        .values_list(*LIST_COLUMNS)
    )


def pods_in_use(visible, *, every: bool) -> list[str]:
    """The pods of the ``visible`` enrollments, sorted. When they are ``every`` enrollment, a
    loose index scan (one probe of cm_enrollments_pod_idx per pod) instead of reading them all,
    so the list's pod filter costs the same at any size."""
    if not every:
        return list(
            visible.exclude(pod_assignment__isnull=True)
            .exclude(pod_assignment="")
            .order_by("pod_assignment")
            .values_list("pod_assignment", flat=True)
            .distinct()
        )
    with connection.cursor() as cursor:
        # A SELECT first, so django-pghistory adds no context to it (it does to a WITH).
        cursor.execute(
            "SELECT pod FROM (WITH RECURSIVE pods(pod) AS ("
            " SELECT min(pod_assignment) FROM cm_enrollments WHERE pod_assignment > ''"
            " UNION ALL SELECT (SELECT min(pod_assignment) FROM cm_enrollments"
            " WHERE pod_assignment > pods.pod) FROM pods WHERE pod IS NOT NULL)"
            " SELECT pod FROM pods WHERE pod IS NOT NULL) AS found ORDER BY pod"
        )
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class PatientPage:
    patient: PatientCanonical
    cm_record: PatientCM | None
    enrollments: list
    intakeq_link: PatientIntakeQLink | None
    # The CM record's status badge: patients_cm.status summarizes every enrollment, so for a
    # user who cannot see them all it is summarized again from the ones they see (else a
    # CPSS would learn of an enrollment on another caseload).
    cm_status: ParticipationStatus | None = None


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
    cm_record = PatientCM.objects.filter(canonical_patient=patient).first()
    cm_status = ParticipationStatus(cm_record.status) if cm_record and cm_record.status else None
    if not sees_every_cm_patient(user):
        cm_status = ParticipationStatus.summary(e.status for e in enrollments)
    return PatientPage(
        patient=patient,
        cm_record=cm_record,
        cm_status=cm_status,
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


@dataclass(frozen=True)
class EnrollmentCandidates:
    """What the Scenario 1 review step may show ``user``, and whether a match is hidden."""

    shown: list[Candidate]
    # The best likely match in the CM program on a caseload the user cannot see: the page says
    # only that it exists, and a supervisor decides (cm_program.supervisor_requests).
    hidden_match: Candidate | None


def _as_person(candidate: Candidate, person: PatientCanonical) -> Candidate:
    return Candidate(
        source="canonical",
        pk=person.pk,
        first_name=person.first_name,
        last_name=person.last_name,
        date_of_birth=person.date_of_birth,
        score=candidate.score,
        reasons=(*candidate.reasons, "linked IntakeQ record"),
    )


def enrollment_candidates(
    *,
    user,
    first_name: str,
    last_name: str,
    date_of_birth: datetime.date,
    phone: str | None = None,
    email: str | None = None,
) -> EnrollmentCandidates:
    """The matcher's candidates at or above the review score, scoped to what ``user`` may see.

    An IntakeQ row already linked counts as its canonical person, so the choice is always between
    people and picking one never links a record twice. A person the user may not see is never
    listed: when they are in the CM program they become ``hidden_match``; otherwise a linked
    IntakeQ row stays listed as itself (IntakeQ rows have their own visibility) and an unlinked
    canonical row is left out. Below the review score nothing is listed, whoever it is.
    """
    review_min = review_min_score()
    candidates = [
        c
        for c in find_candidates(
            first_name=first_name,
            last_name=last_name,
            date_of_birth=date_of_birth,
            phone=phone,
            email=email,
        )
        if c.score >= review_min
    ]
    iq_pks = [c.pk for c in candidates if c.source == "intakeq"]
    links = {
        link.intakeq_patient_id: link.canonical_patient
        for link in PatientIntakeQLink.objects.filter(
            intakeq_patient_id__in=iq_pks, canonical_patient__isnull=False
        ).select_related("canonical_patient")
    }
    person_pks = [c.pk for c in candidates if c.source == "canonical"]
    person_pks += [p.pk for p in links.values()]
    visible = set(
        PatientCanonical.objects.visible_to(user)
        .filter(pk__in=person_pks)
        .values_list("pk", flat=True)
    )
    hidden = people_in_cm_hidden_from(user, pks=person_pks)
    visible_iq = set(
        IntakeQPatient.objects.visible_to(user).filter(pk__in=iq_pks).values_list("pk", flat=True)
    )
    shown, seen, hidden_match = [], set(), None
    for candidate in candidates:
        person = links.get(candidate.pk) if candidate.source == "intakeq" else None
        pk = person.pk if person is not None else candidate.pk
        if candidate.source == "canonical" or person is not None:
            as_person = _as_person(candidate, person) if person else candidate
            if pk in hidden:
                hidden_match = hidden_match or as_person
                continue
            if pk in visible:
                if pk not in seen:
                    seen.add(pk)
                    shown.append(as_person)
                continue
            if person is None:
                continue
        if candidate.pk in visible_iq:
            shown.append(candidate)
    return EnrollmentCandidates(shown=shown, hidden_match=hidden_match)


@dataclass(frozen=True)
class CandidateFacts:
    """What helps a user decide whether a shown candidate is the person: only what they may see."""

    phone: str = ""
    email: str = ""
    # (program, CPSS, status label) of each enrollment the user may see.
    enrollments: tuple[tuple[str, str, str], ...] = ()


def candidate_facts(
    *, user, candidates: list[Candidate]
) -> dict[tuple[str, object], CandidateFacts]:
    """Phone, email and enrollments of the review step's candidates, keyed by (source, pk).

    A person's CM phone and email only when the user may open their CM page; enrollments only
    those ``visible_to`` the user; an IntakeQ row's contact only when the row is visible to them.
    """
    person_pks = [c.pk for c in candidates if c.source == "canonical"]
    iq_pks = [c.pk for c in candidates if c.source == "intakeq"]
    contact = {
        cm.canonical_patient_id: (cm.phone or "", cm.email or "")
        for cm in PatientCM.objects.filter(
            canonical_patient__in=canonical_patients_visible_to(user).filter(pk__in=person_pks)
        ).only("canonical_patient_id", "phone", "email")
    }
    enrollments: dict = {}
    for enrollment in (
        Enrollment.objects.visible_to(user)
        .filter(canonical_patient_id__in=person_pks)
        .select_related("cm_program", "cpss_provider")
        .order_by("cm_program__name")
    ):
        status = ParticipationStatus(enrollment.status or ParticipationStatus.ACTIVE).label
        enrollments.setdefault(enrollment.canonical_patient_id, []).append(
            (str(enrollment.cm_program), str(enrollment.cpss_provider or "—"), status)
        )
    contact |= {
        row.pk: (row.phone or "", row.email or "")
        for row in IntakeQPatient.objects.visible_to(user)
        .filter(pk__in=iq_pks)
        .only("pk", "phone", "email")
    }
    return {
        (c.source, c.pk): CandidateFacts(
            *contact.get(c.pk, ("", "")),
            enrollments=tuple(enrollments.get(c.pk, ()) if c.source == "canonical" else ()),
        )
        for c in candidates
    }


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


def intakeq_rows_in_cm(*, user, rows) -> dict:
    """For IntakeQ rows listed to ``user``: "visible" when the linked person is in the CM
    program on a caseload the user sees, "elsewhere" when on one they do not (say nothing more)."""
    linked = dict(
        PatientIntakeQLink.objects.filter(intakeq_patient__in=[r.pk for r in rows]).values_list(
            "intakeq_patient_id", "canonical_patient_id"
        )
    )
    in_cm = set(
        Enrollment.objects.filter(canonical_patient_id__in=linked.values()).values_list(
            "canonical_patient_id", flat=True
        )
    )
    hidden = people_in_cm_hidden_from(user, pks=in_cm)
    return {
        iq_pk: "elsewhere" if person in hidden else "visible"
        for iq_pk, person in linked.items()
        if person in in_cm
    }


def cm_person_of_intakeq(*, intakeq_patient: IntakeQPatient) -> PatientCanonical | None:
    """The canonical person enrolling this IntakeQ record would enroll: the linked one, else the
    one with exactly its (normalized) name and date of birth, as find-or-create would pick."""
    link = (
        PatientIntakeQLink.objects.filter(intakeq_patient=intakeq_patient)
        .select_related("canonical_patient")
        .first()
    )
    if link is not None:
        return link.canonical_patient
    if intakeq_patient.date_of_birth is None:
        return None
    return PatientCanonical.objects.filter(
        first_name_normalized=normalize_name(intakeq_patient.first_name),
        last_name_normalized=normalize_name(intakeq_patient.last_name),
        date_of_birth=intakeq_patient.date_of_birth,
    ).first()


def intakeq_person_in_cm_elsewhere(
    *, user, intakeq_patient: IntakeQPatient
) -> PatientCanonical | None:
    """The person enrolling this IntakeQ record would enroll, when they are in the CM program on
    a caseload ``user`` cannot see (then only a supervisor may enroll them)."""
    person = cm_person_of_intakeq(intakeq_patient=intakeq_patient)
    if person is None or not people_in_cm_hidden_from(user, pks=[person.pk]):
        return None
    return person


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


def enrollment_search_q(term: str) -> Q:
    """What the CM list's search box finds: a date of birth (any format parse_date reads), a
    phone number, Medicaid ID or IntakeQ client id (a term with a digit), else name words.

    Applied to enrollments the user may see, so it finds only people on their caseload."""
    term = " ".join(term.split())
    if (date := parse_date(term)) is not None:
        return Q(canonical_patient__date_of_birth=date)
    if any(char.isdigit() for char in term):
        q = Q(cm_patient__medicaid_id__iexact=term.replace(" ", "")) | Q(
            canonical_patient__intakeq_link__intakeq_patient__intakeq_client_id=term
        )
        with contextlib.suppress(ValidationError):  # not a phone number
            q |= Q(cm_patient__phone=normalize_us_phone(term))  # stored in that one format
        return q
    q = Q()
    for word in normalize_name(term).split():
        q &= Q(canonical_patient__first_name_normalized__contains=word) | Q(
            canonical_patient__last_name_normalized__contains=word
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


def supervisor_requests_pending():
    """The supervisor queue, oldest first, with what a row shows joined in."""
    return (
        SupervisorRequest.objects.filter(status=SupervisorRequest.Status.PENDING)
        .select_related(
            "requested_by", "cm_program", "cpss_provider", "intakeq_patient", "possible_match"
        )
        .order_by("requested_at", "id")
    )


@dataclass(frozen=True)
class SupervisorRequestPage:
    request: SupervisorRequest
    # 'Same person' choices for a typed request: (key, candidate), as on the enrollment page.
    choices: list
    # Each person shown (the possible match, the candidates) with their enrollments.
    enrollments: dict


def supervisor_request_page(*, user, supervisor_request: SupervisorRequest):
    """What a supervisor decides on: the request, the people it may be, and their programs."""
    choices = []
    typed = supervisor_request.kind == SupervisorRequest.Kind.ENROLLMENT
    if typed and supervisor_request.intakeq_patient_id is None:
        found = enrollment_candidates(
            user=user,
            first_name=supervisor_request.first_name,
            last_name=supervisor_request.last_name,
            date_of_birth=supervisor_request.date_of_birth,
        )
        choices = [(f"{c.source}:{c.pk}", c) for c in found.shown]
    people = {c.pk for _, c in choices if c.source == "canonical"}
    if supervisor_request.possible_match_id:
        people.add(supervisor_request.possible_match_id)
    enrollments = {}
    for enrollment in (
        Enrollment.objects.visible_to(user)
        .filter(canonical_patient_id__in=people)
        .select_related("cm_program", "cpss_provider")
        .order_by("cm_program__name")
    ):
        enrollments.setdefault(enrollment.canonical_patient_id, []).append(enrollment)
    return SupervisorRequestPage(supervisor_request, choices, enrollments)


def cpss_active_count(*, provider) -> int:
    """The CPSS's active enrollments: what their maximum caseload limits."""
    return Enrollment.objects.filter(
        cpss_provider=provider, status=ParticipationStatus.ACTIVE
    ).count()


def cpss_caseload_is_full(*, provider) -> bool:
    """Whether one more active enrollment would pass the CPSS's maximum caseload (a read, no
    lock: services.cpss_assignment_check decides when assigning)."""
    if provider is None or provider.max_caseload is None:
        return False
    return cpss_active_count(provider=provider) >= provider.max_caseload
