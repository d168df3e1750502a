"""Issue 13's "today": the matcher and find-or-create as they were before it, for the bench.

They run on the same data as the current code so the table shows the change, not the machine.
Copied from commit f95c679 (identity/matching.py, identity/services.py), on the current sources.
"""

from django.db import transaction
from django.db.models import Value

from identity import matching
from identity.models import NormalizeName, PatientCanonical


def find_candidates_before(*, first_name, last_name, date_of_birth, limit=10):
    """Every record of the block scored one by one in Python (no vectorized gate)."""
    query = matching._Query(
        first_name.strip(),
        last_name.strip(),
        date_of_birth,
        matching.normalize_name(first_name),
        matching.normalize_name(last_name),
    )
    candidates = []
    for source in matching._sources.values():
        for record in source(first_name, last_name, date_of_birth):
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
