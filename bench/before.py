"""Issue 13's "today": the matcher and find-or-create as they were before it, for the bench.

They run on the same data as the current code so the table shows the change, not the machine.
Copied from commit f95c679 (identity/matching.py, identity/services.py); the two blocking
queries are those of commit e5374e5 (identity/matching.py, intakeq_link/matching.py), built by
the ORM on every call. tests/test_identity_review_feed.py uses ``records_before`` and
``score_every_record`` as the reference the faster matcher must equal.
"""

from django.db import transaction
from django.db.models import Q, Value

from identity import matching
from identity.models import NormalizeName, PatientCanonical
from intakeq_link.models import IntakeQPatient


def _canonical_records(first_name, last_name, date_of_birth):
    first, last = matching.normalize_name(first_name), matching.normalize_name(last_name)
    same_name = Q(first_name_normalized=first, last_name_normalized=last) | Q(
        first_name_normalized=last, last_name_normalized=first
    )
    rows = (
        PatientCanonical.objects.filter(
            Q(date_of_birth__in=matching.blocking_dates(date_of_birth)) | same_name,
            merged_into__isnull=True,
        )
        .order_by()
        .values_list(
            "pk",
            "first_name",
            "last_name",
            "date_of_birth",
            "first_name_normalized",
            "last_name_normalized",
        )
    )
    for row in rows:
        yield matching.PersonRecord(matching.CANONICAL, *row)


def _intakeq_records(first_name, last_name, date_of_birth):
    rows = (
        IntakeQPatient.objects.from_intakeq()
        .filter(date_of_birth__in=matching.blocking_dates(date_of_birth))
        .order_by()
        .annotate(first_norm=NormalizeName("first_name"), last_norm=NormalizeName("last_name"))
        .values_list(
            "pk",
            "first_name",
            "last_name",
            "date_of_birth",
            "first_norm",
            "last_norm",
            "phone",
            "email",
        )
    )
    for row in rows:
        yield matching.PersonRecord("intakeq", *row)


def records_before(first_name, last_name, date_of_birth) -> list:
    """The whole block, as the two ORM queries (one per source) fetched it before."""
    return [
        *_canonical_records(first_name, last_name, date_of_birth),
        *_intakeq_records(first_name, last_name, date_of_birth),
    ]


def score_every_record(*, first_name, last_name, date_of_birth, phone=None, email=None):
    """Every record of the block scored one by one in Python (no gate): all that reach the
    minimum, as (source, pk as text, score, reasons), sorted."""
    query = matching._query(first_name, last_name, date_of_birth, phone, email)
    records = records_before(first_name, last_name, date_of_birth)
    if query.phone is not None or query.email is not None:
        records = matching._with_canonical_contact(records)
    out = []
    for record in records:
        score, reasons = matching.score_record(query, record)
        if score >= matching.MIN_CANDIDATE_SCORE:
            out.append((record.source, str(record.pk), matching._as_decimal(score), reasons))
    return sorted(out)


def find_candidates_before(*, first_name, last_name, date_of_birth, limit=10):
    """Every record of the block scored one by one in Python (no gate)."""
    query = matching._query(first_name, last_name, date_of_birth, None, None)
    candidates = []
    for record in records_before(first_name, last_name, date_of_birth):
        score, reasons = matching.score_record(query, record)
        if score >= matching.MIN_CANDIDATE_SCORE:
            candidates.append((-score, record.source, str(record.pk), reasons))
    candidates.sort()
    return candidates[:limit]


def _get_by_identity(first_name, last_name, date_of_birth):
    return PatientCanonical.objects.filter(
        first_name_normalized=NormalizeName(Value(first_name)),
        last_name_normalized=NormalizeName(Value(last_name)),
        date_of_birth=date_of_birth,
    ).first()


@transaction.atomic
def find_or_create_before(*, first_name, last_name, date_of_birth):
    """Read, INSERT … ON CONFLICT DO NOTHING, read again, inside a transaction: 5 statements."""
    existing = _get_by_identity(first_name, last_name, date_of_birth)
    if existing is not None:
        return existing, False
    candidate = PatientCanonical(
        first_name=first_name, last_name=last_name, date_of_birth=date_of_birth
    )
    PatientCanonical.objects.bulk_create([candidate], ignore_conflicts=True)
    created = PatientCanonical.objects.filter(pk=candidate.pk).first()
    if created is not None:
        return created, True
    return _get_by_identity(first_name, last_name, date_of_birth), False
