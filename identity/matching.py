"""Who a new name and date of birth may already be: canonical patients and IntakeQ patients.

identity imports no other app, so other apps plug their records in as *candidate sources*:
``intakeq_link`` registers the IntakeQ ``patients`` table in its AppConfig.ready().

Contract (used by the CPSS enrollment pages and migrate_cm_legacy):
``find_candidates(*, first_name, last_name, date_of_birth, limit=10) -> list[Candidate]``,
best first, each with a score from 0.00 to 1.00 and the reasons that made it.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Value

from identity.models import NormalizeName, PatientCanonical
from identity.validators import clean_date_of_birth, clean_person_name

CANONICAL = "canonical"


@dataclass(frozen=True)
class PersonRecord:
    """A record a source offers for scoring: enough identity to compare, and where it lives."""

    source: str
    pk: object
    first_name: str
    last_name: str
    date_of_birth: datetime.date | None


@dataclass(frozen=True)
class Candidate:
    source: str  # "canonical" or a registered source's name, e.g. "intakeq"
    pk: object
    first_name: str
    last_name: str
    date_of_birth: datetime.date | None
    score: Decimal
    reasons: tuple[str, ...] = field(default_factory=tuple)


# name -> function(first_name, last_name, date_of_birth) returning PersonRecords worth scoring.
CandidateSource = Callable[[str, str, datetime.date], Iterable[PersonRecord]]
_sources: dict[str, CandidateSource] = {}


def register_candidate_source(name: str, source: CandidateSource) -> None:
    _sources[name] = source


def _canonical_records(first_name, last_name, date_of_birth):
    rows = PatientCanonical.objects.filter(
        first_name_normalized=NormalizeName(Value(first_name)),
        last_name_normalized=NormalizeName(Value(last_name)),
        date_of_birth=date_of_birth,
    )
    for row in rows:
        yield PersonRecord(CANONICAL, row.pk, row.first_name, row.last_name, row.date_of_birth)


register_candidate_source(CANONICAL, _canonical_records)


def find_candidates(*, first_name, last_name, date_of_birth, limit=10) -> list[Candidate]:
    # Placeholder scoring (exact normalized name and date of birth only); issue 3 replaces it.
    first_name = clean_person_name(first_name, label="first_name")
    last_name = clean_person_name(last_name, label="last_name")
    date_of_birth = clean_date_of_birth(date_of_birth)
    candidates = []
    for source in _sources.values():
        for record in source(first_name, last_name, date_of_birth):
            candidates.append(
                Candidate(
                    source=record.source,
                    pk=record.pk,
                    first_name=record.first_name,
                    last_name=record.last_name,
                    date_of_birth=record.date_of_birth,
                    score=Decimal("1.00"),
                    reasons=("exact",),
                )
            )
    return candidates[:limit]
