"""Who a new name and date of birth may already be: canonical patients and IntakeQ patients.

identity imports no other app, so other apps plug their records in as *candidate sources*:
``intakeq_link`` registers the IntakeQ ``patients`` table in its AppConfig.ready().

Contract (used by the CPSS enrollment pages and migrate_cm_legacy):
``find_candidates(*, first_name, last_name, date_of_birth, limit=10) -> list[Candidate]``,
best first, each with a score from 0.00 to 1.00 and the reasons that made it.

Two steps, as record linkage does it:

1. **Blocking** (sources, in SQL, on indexes): records whose date of birth is the query's or one
   common slip away from it (``identity.dates.date_of_birth_variants``: day/month swapped, two
   digits transposed, one digit off), plus, for canonical patients, the same normalized name with
   any date of birth (so a father or son shows up as a *low* candidate, explained).
2. **Scoring** (here, in Python, on a few hundred rows at most): each name is compared with
   rapidfuzz/jellyfish and the nickname table (identity.names), both name orders are tried, and
   the date difference scales the result. The reasons say which rules fired.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from rapidfuzz.distance import JaroWinkler

from identity import dates, names
from identity.models import PatientCanonical
from identity.normalization import normalize_name
from identity.validators import clean_date_of_birth, clean_person_name

CANONICAL = "canonical"

# Reasons, besides those of identity.names and identity.dates.
EXACT = "exact"
SWAPPED = "first_last_swapped"
HYPHENATED = "hyphenated_last_name"
LAST_NAME_CHANGED = "last_name_changed"
FIRST_NAME_DIFFERS = "first_name_differs"

# Swapped names are very likely one person, but a form filled in the wrong way round deserves a
# human look before an automatic link.
SWAPPED_FACTOR = 0.95

# Below this a record is noise (same birthday, unrelated name) and is not returned at all.
MIN_CANDIDATE_SCORE = 0.30


def auto_link_min_score() -> Decimal:
    """The score from which a single candidate is the same person without a human deciding.

    ``CM_AUTO_LINK_MIN_SCORE``: every automatic decision (linking, merging one person written
    twice by the old app) reads it here, so the project has one definition of "same person".
    """
    return _score_setting("CM_AUTO_LINK_MIN_SCORE")


def review_min_score() -> Decimal:
    """The score from which a pair is worth a person's review (``CM_LINK_REVIEW_MIN_SCORE``)."""
    return _score_setting("CM_LINK_REVIEW_MIN_SCORE")


def _score_setting(name: str) -> Decimal:
    return Decimal(str(getattr(settings, name))).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class PersonRecord:
    """A record a source offers for scoring: enough identity to compare, and where it lives."""

    source: str
    pk: object
    first_name: str
    last_name: str
    date_of_birth: datetime.date | None
    # The names through identity.normalization, when the source already has them (saves work).
    first_name_normalized: str | None = None
    last_name_normalized: str | None = None


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
# A source should block on indexed keys; blocking_dates() gives the dates worth looking up.
CandidateSource = Callable[[str, str, datetime.date], Iterable[PersonRecord]]
_sources: dict[str, CandidateSource] = {}


def register_candidate_source(name: str, source: CandidateSource) -> None:
    _sources[name] = source


def blocking_dates(date_of_birth: datetime.date) -> list[datetime.date]:
    """The dates of birth a source should look up: the query's and its common mistypings.

    Leaves out dates after today (nobody on file has one) and wrong-decade variants, which can
    never reach review (identity.dates.DATE_FACTORS) and would triple the rows fetched.
    """
    today = timezone.localdate()
    return [
        value
        for value, kind in dates.date_of_birth_variants(date_of_birth).items()
        if value <= today and kind != dates.DECADE_DIGIT
    ]


def _canonical_records(first_name, last_name, date_of_birth):
    first, last = normalize_name(first_name), normalize_name(last_name)
    same_name = Q(first_name_normalized=first, last_name_normalized=last) | Q(
        first_name_normalized=last, last_name_normalized=first
    )
    rows = (
        PatientCanonical.objects.filter(
            Q(date_of_birth__in=blocking_dates(date_of_birth)) | same_name
        )
        .order_by()  # ranking happens after scoring; a SQL sort would only cost time
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
        yield PersonRecord(CANONICAL, *row)


register_candidate_source(CANONICAL, _canonical_records)


@dataclass(frozen=True)
class _Query:
    first_name: str
    last_name: str
    date_of_birth: datetime.date
    first: str  # normalized
    last: str


def score_record(query: _Query, record: PersonRecord) -> tuple[float, tuple[str, ...]]:
    """Score one record against the query: (0..1, reasons). Pure: no database."""
    first = record.first_name_normalized
    last = record.last_name_normalized
    if first is None or last is None:
        first, last = normalize_name(record.first_name), normalize_name(record.last_name)
    date_kind = dates.compare_dates(query.date_of_birth, record.date_of_birth)
    if date_kind != dates.EXACT and not _names_worth_comparing(query, first, last):
        return 0.0, ()
    reasons: list[str] = []

    typed_first, typed_last = record.first_name.strip(), record.last_name.strip()
    straight = _name_score(
        query.first,
        query.last,
        first,
        last,
        typed_equal=(typed_first == query.first_name, typed_last == query.last_name),
    )
    swapped = _name_score(
        query.first,
        query.last,
        last,
        first,
        typed_equal=(typed_last == query.first_name, typed_first == query.last_name),
    )
    name_score, name_reasons = straight
    # Swapped only when it explains both names and the straight order does not.
    if swapped[0] * SWAPPED_FACTOR > name_score and swapped[0] >= names.STRONG:
        name_score, name_reasons = swapped[0] * SWAPPED_FACTOR, (SWAPPED, *swapped[1])
    reasons.extend(name_reasons)

    if date_kind != dates.EXACT:
        reasons.append(date_kind)
    score = name_score * dates.DATE_FACTORS[date_kind]

    if typed_first == query.first_name and typed_last == query.last_name and not reasons:
        return 1.0, (EXACT,)
    return min(score, 0.99), tuple(dict.fromkeys(reasons))


def _names_worth_comparing(query: _Query, first: str, last: str) -> bool:
    """A cheap gate for records found only through a mistyped-date variant.

    With the date not exact, a record can only reach MIN_CANDIDATE_SCORE if at least one name
    is strong; a strong name is a nickname or is close by Jaro-Winkler, in either order. Most
    people sharing a mistyped birthday fail this in a microsecond and are never fully scored.
    """
    pairs = ((query.first, first), (query.last, last), (query.first, last), (query.last, first))
    if any(JaroWinkler.similarity(a, b) >= 0.7 for a, b in pairs):
        return True
    return names.are_nicknames(query.first, first) or names.are_nicknames(query.first, last)


def _name_score(q_first, q_last, first, last, *, typed_equal) -> tuple[float, tuple[str, ...]]:
    first_match = names.compare_names(q_first, first, given_name=True)
    last_match = names.compare_names(q_last, last, given_name=False)
    if last_match.reason is None and names.last_name_tokens_overlap(q_last, last):
        last_match = names.NameMatch(0.9, HYPHENATED)
    first_strong = first_match.score >= names.STRONG
    last_strong = last_match.score >= names.STRONG
    # "normalized" explains a difference; a name typed identically needs no reason.
    reasons = tuple(
        match.reason
        for match, same_as_typed in zip((first_match, last_match), typed_equal, strict=True)
        if match.reason and not (same_as_typed and match.reason == names.NORMALIZED)
    )
    if first_strong and last_strong:
        return (first_match.score + last_match.score) / 2, reasons
    if first_match.score >= names.SAME:
        # Same first name and birth date, another last name: marriage or divorce, for staff to
        # confirm; never enough for an automatic link. A nickname on top is one change too many.
        return 0.8 * first_match.score, (*reasons, LAST_NAME_CHANGED)
    if last_strong:
        # Same family, another first name: a twin or sibling. Must stay below review.
        return 0.5 * last_match.score + 0.1 * first_match.score, (*reasons, FIRST_NAME_DIFFERS)
    return 0.3 * (first_match.score + last_match.score) / 2, reasons


def _as_decimal(score: float) -> Decimal:
    return Decimal(str(score)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def find_candidates(*, first_name, last_name, date_of_birth, limit=10) -> list[Candidate]:
    """Records that may be this person, best first (score, then name), at most ``limit``.

    Raises ValidationError for a blank name or an impossible date of birth, like the services.
    """
    first_name = clean_person_name(first_name, label="first_name")
    last_name = clean_person_name(last_name, label="last_name")
    date_of_birth = clean_date_of_birth(date_of_birth)
    query = _Query(
        first_name,
        last_name,
        date_of_birth,
        normalize_name(first_name),
        normalize_name(last_name),
    )
    candidates = []
    for source in _sources.values():
        for record in source(first_name, last_name, date_of_birth):
            score, reasons = score_record(query, record)
            if score < MIN_CANDIDATE_SCORE:
                continue
            candidates.append(
                Candidate(
                    source=record.source,
                    pk=record.pk,
                    first_name=record.first_name,
                    last_name=record.last_name,
                    date_of_birth=record.date_of_birth,
                    score=_as_decimal(score),
                    reasons=reasons,
                )
            )
    candidates.sort(
        key=lambda c: (-c.score, c.source, c.last_name, c.first_name, str(c.pk)),
    )
    return candidates[:limit]
