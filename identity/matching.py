"""Who a new name and date of birth may already be: canonical patients and IntakeQ patients.

identity imports no other app, so other apps plug their records in as *candidate sources*
(identity.blocking): ``intakeq_link`` registers the IntakeQ ``patients`` table in its
AppConfig.ready().

Contract (used by the CPSS enrollment pages and migrate_cm_legacy):
``find_candidates(*, first_name, last_name, date_of_birth, limit=10) -> list[Candidate]``,
best first, each with a score from 0.00 to 1.00 and the reasons that made it.

Two steps, as record linkage does it:

1. **Blocking** (identity.blocking: every source's database function in one SQL statement,
   plans kept by PL/pgSQL, on covering indexes): records whose date of birth is the query's or
   one common slip away from it (``identity.dates.date_of_birth_variants``: day/month swapped,
   two digits transposed, one digit off), plus, for canonical patients, the same normalized
   name with any date of birth (so a father or son shows up as a *low* candidate, explained).
2. **Scoring** (here, in Python): first a gate (``_viable``) keeps only the records that can
   reach MIN_CANDIDATE_SCORE: the same first name, or the query's last name strong against the
   record's last or first name, found for the block's distinct names in one
   ``rapidfuzz.process`` call per scorer, in C. The few left are scored one by one: each name
   is compared with rapidfuzz/jellyfish and the nickname table (identity.names), both name
   orders are tried, and the date difference scales the result. Phone and email, when both
   sides have them, raise or lower it (``same_phone``, ``same_email``). The reasons say which
   rules fired.
"""

import datetime
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain
from operator import itemgetter

import jellyfish
from django.conf import settings
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from identity import dates, names
from identity.blocking import (  # noqa: F401 - the matcher's contract for sources, re-exported
    CANONICAL,
    block_rows,
    blocking_dates,
    register_candidate_source,
)
from identity.models import PatientCanonical
from identity.normalization import normalize_email, normalize_name, normalize_phone
from identity.validators import clean_date_of_birth, clean_person_name

# Reasons, besides those of identity.names and identity.dates.
EXACT = "exact"
SWAPPED = "first_last_swapped"
HYPHENATED = "hyphenated_last_name"
LAST_NAME_CHANGED = "last_name_changed"
FIRST_NAME_DIFFERS = "first_name_differs"
SAME_PHONE = "same_phone"
SAME_EMAIL = "same_email"
PHONE_DIFFERS = "phone_differs"
EMAIL_DIFFERS = "email_differs"

# Contact evidence. Agreement on a phone or an email closes this share of the gap to 1, but only
# for a person whose names are both strong and whose date is exact or one slip away: twins and a
# father and son share a household's phone, so it must never lift them. A disagreement costs a
# little: people change numbers and addresses.
CONTACT_AGREEMENT_LIFT = 0.5
CONTACT_DISAGREEMENT_FACTOR = 0.97
_LIFTABLE_DATES = frozenset(
    {dates.EXACT, dates.DAY_MONTH_SWAPPED, dates.TRANSPOSED, dates.ONE_DIGIT}
)

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
    phone: str | None = None  # as stored; compared after identity.normalization
    email: str | None = None


@dataclass(frozen=True)
class Candidate:
    source: str  # "canonical" or a registered source's name, e.g. "intakeq"
    pk: object
    first_name: str
    last_name: str
    date_of_birth: datetime.date | None
    score: Decimal
    reasons: tuple[str, ...] = field(default_factory=tuple)


def _with_canonical_contact(records: list[PersonRecord]) -> list[PersonRecord]:
    """Canonical records with the phone and email of their CM record, read only when the query
    has contact evidence and only for the records worth scoring (joining every lookup's block
    to patients_cm cost more than the whole lookup). The CM record is reached by its reverse
    relation's name: identity imports no other app."""
    ids = [r.pk for r in records if r.source == CANONICAL]
    if not ids:
        return records
    contact = {
        pk: (phone, email)
        for pk, phone, email in PatientCanonical.objects.filter(pk__in=ids)
        .order_by()
        .values_list("pk", "cm_record__phone", "cm_record__email")
    }
    return [
        replace(r, phone=contact[r.pk][0], email=contact[r.pk][1])
        if r.source == CANONICAL and r.pk in contact
        else r
        for r in records
    ]


@dataclass(frozen=True)
class _Query:
    first_name: str
    last_name: str
    date_of_birth: datetime.date
    first: str  # normalized
    last: str
    phone: str | None = None  # normalized
    email: str | None = None


def _normalized_names(record: PersonRecord) -> tuple[str, str]:
    first, last = record.first_name_normalized, record.last_name_normalized
    if first is None or last is None:
        return normalize_name(record.first_name), normalize_name(record.last_name)
    return first, last


def score_record(
    query: _Query, record: PersonRecord, *, swap_possible: bool = True
) -> tuple[float, tuple[str, ...]]:
    """Score one record against the query: (0..1, reasons). Pure: no database.

    ``swap_possible=False`` skips the swapped name order, for a record whose first name the
    query's last name does not rate strong: that order could not win (see _identity_score).
    """
    score, reasons, liftable = _identity_score(query, record, swap_possible=swap_possible)
    if score == 0.0 or (query.phone is None and query.email is None):
        return score, reasons
    extra: list[str] = []
    for mine, theirs, same, differs in (
        (query.phone, normalize_phone(record.phone), SAME_PHONE, PHONE_DIFFERS),
        (query.email, normalize_email(record.email), SAME_EMAIL, EMAIL_DIFFERS),
    ):
        if mine is None or theirs is None:
            continue
        if mine == theirs:
            extra.append(same)
            if liftable and score < 1.0:
                score = min(score + (1.0 - score) * CONTACT_AGREEMENT_LIFT, 0.99)
        else:
            extra.append(differs)
            score *= CONTACT_DISAGREEMENT_FACTOR
    return score, (*reasons, *extra)


def _identity_score(
    query: _Query, record: PersonRecord, *, swap_possible: bool = True
) -> tuple[float, tuple[str, ...], bool]:
    """Names and date of birth: (0..1, reasons, whether contact agreement may lift it).

    The swapped order wins only with a score of names.STRONG, which _name_score gives only with
    both names strong, so only if the query's last name is strong against the record's first.
    """
    first, last = _normalized_names(record)
    date_kind = dates.compare_dates(query.date_of_birth, record.date_of_birth)
    if date_kind != dates.EXACT and not _names_worth_comparing(query, first, last):
        return 0.0, (), False
    reasons: list[str] = []

    typed_first, typed_last = record.first_name.strip(), record.last_name.strip()
    straight = _name_score(
        query.first,
        query.last,
        first,
        last,
        typed_equal=(typed_first == query.first_name, typed_last == query.last_name),
    )
    name_score, name_reasons = straight
    swapped = (
        _name_score(
            query.first,
            query.last,
            last,
            first,
            typed_equal=(typed_last == query.first_name, typed_first == query.last_name),
        )
        if swap_possible
        else (0.0, ())
    )
    # Swapped only when it explains both names and the straight order does not.
    if swapped[0] * SWAPPED_FACTOR > name_score and swapped[0] >= names.STRONG:
        name_score, name_reasons = swapped[0] * SWAPPED_FACTOR, (SWAPPED, *swapped[1])
    reasons.extend(name_reasons)

    if date_kind != dates.EXACT:
        reasons.append(date_kind)
    score = name_score * dates.DATE_FACTORS[date_kind]

    # Both names strong (straight, or swapped at a discount); not a changed or different name.
    liftable = (
        date_kind in _LIFTABLE_DATES
        and name_score >= names.STRONG * SWAPPED_FACTOR
        and LAST_NAME_CHANGED not in reasons
        and FIRST_NAME_DIFFERS not in reasons
    )
    if typed_first == query.first_name and typed_last == query.last_name and not reasons:
        return 1.0, (EXACT,), True
    return min(score, 0.99), tuple(dict.fromkeys(reasons)), liftable


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


@dataclass(frozen=True)
class _Gate:
    """The gate's verdict on a block: the records worth scoring, and the names the query's last
    name rates strong (only a record whose first name is one can win in swapped order)."""

    viable: list[int]
    strong: frozenset[str]


def _viable(query: _Query, names_normalized: list[tuple[str, str]]) -> _Gate:
    """The indices of the records (by their normalized first and last names) that could reach
    MIN_CANDIDATE_SCORE: a necessary condition, so scoring only these gives the same results
    as scoring every record (tests/test_identity_review_feed.py compares the two).

    Why it is necessary (see _name_score; the date and the contact evidence only scale a name
    score, and contact lifts only scores already far above the minimum): straight, a pair of
    names reaches 0.30 only with the first name the same (normalized, spaces ignored) or the
    last name strong; swapped, only with both names strong, so with the query's last name strong
    against the record's *first* name. So a record is worth scoring only if its first name is
    the query's, or the query's last name is strong against its last or its first name.
    """
    # First and last names in one list, each name once: a block repeats common names, and the
    # query's last name is tested against both (one rapidfuzz call per scorer, not two).
    distinct = list(dict.fromkeys(chain.from_iterable(names_normalized)))
    compact = _compacted(distinct)
    strong = frozenset(distinct[index] for index in _strong_against(query.last, distinct, compact))
    first_compact = query.first.replace(" ", "")
    worth = strong.union(distinct[index] for index in _positions(compact, first_compact))
    viable = [
        index
        for index, (first, last) in enumerate(names_normalized)
        if first in worth or last in strong
    ]
    return _Gate(viable, strong)


def _compacted(choices: list[str]) -> list[str]:
    """``choices`` without their spaces, in a few calls in C rather than one per name.

    ``choices`` itself when no name has a space. Normalized names hold no line breaks; a list
    with one anyway is compacted name by name."""
    joined = "\n".join(choices)
    if " " not in joined:
        return choices
    compact = joined.replace(" ", "").split("\n")
    return compact if len(compact) == len(choices) else [c.replace(" ", "") for c in choices]


def _positions(values: list[str], wanted: str) -> list[int]:
    """The indices of ``wanted`` in ``values``, found by list.index (in C): usually none or one."""
    found = []
    try:
        while True:
            found.append(values.index(wanted, found[-1] + 1 if found else 0))
    except ValueError:
        return found


def _spaced(choices: list[str]) -> list[int]:
    """The indices of the names with a space, found in the names joined by str.find (in C): a
    block holds a few such names among hundreds."""
    joined = "\n".join(choices)
    found = []
    index, start = 0, 0  # the name that begins at ``start``
    space = joined.find(" ")
    while space != -1:
        index += joined.count("\n", start, space)
        found.append(index)
        line_end = joined.find("\n", space)
        if line_end == -1:
            break
        index, start = index + 1, line_end + 1
        space = joined.find(" ", start)
    return found


def _strong_against(
    query_last: str, choices: list[str], compact: list[str] | None = None
) -> set[int]:
    """The indices of ``choices`` that a last name compared with ``query_last`` rates strong
    (identity.names.compare_names, and _name_score's hyphenated name), for the whole list at
    once: equal ignoring spaces or a typo (Damerau-Levenshtein within the typo budget), or
    phonetic (same metaphone and Jaro-Winkler >= 0.7), found by rapidfuzz in C, one call each;
    or a name that gained or lost a part. ``compact``: the choices without spaces, if known."""
    last_compact = query_last.replace(" ", "")
    if compact is None:
        compact = _compacted(choices)
    strong = {
        index
        for choice, distance, index in process.extract(
            last_compact, compact, scorer=DamerauLevenshtein.distance, score_cutoff=2, limit=None
        )
        if distance <= names.typo_budget(last_compact, choice)
    }
    sound = jellyfish.metaphone(last_compact)
    strong.update(
        index
        for _, _, index in process.extract(
            query_last, choices, scorer=JaroWinkler.similarity, score_cutoff=0.7, limit=None
        )
        if jellyfish.metaphone(compact[index]) == sound
    )
    # A name gains or loses a part only if one side has two parts: with one part in the query,
    # only the choices with a space need the (slow, per pair) token comparison.
    if " " in query_last:
        spaced = range(len(choices))
    elif compact is choices:
        spaced = ()  # no choice has a space
    else:
        spaced = _spaced(choices)
    strong.update(
        index for index in spaced if names.last_name_tokens_overlap(query_last, choices[index])
    )
    return strong


def _scored(
    query: _Query, records: list[PersonRecord], strong: frozenset[str] | None = None
) -> list[Candidate]:
    """The viable records scored, at or above MIN_CANDIDATE_SCORE, best first. ``strong``: the
    gate's names strong against the query's last name (None: not known, every record tries
    both name orders)."""
    if query.phone is not None or query.email is not None:
        records = _with_canonical_contact(records)
    candidates = []
    for record in records:
        swap_possible = strong is None or _normalized_names(record)[0] in strong
        score, reasons = score_record(query, record, swap_possible=swap_possible)
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
    return candidates


_NORMALIZED_NAMES = itemgetter(5, 6)  # of a block row (identity.blocking.block_rows)


def _query(first_name, last_name, date_of_birth, phone, email) -> _Query:
    return _Query(
        first_name.strip(),
        last_name.strip(),
        date_of_birth,
        normalize_name(first_name),
        normalize_name(last_name),
        normalize_phone(phone),
        normalize_email(email),
    )


def find_candidates(
    *, first_name, last_name, date_of_birth, limit=10, phone=None, email=None
) -> list[Candidate]:
    """Records that may be this person, best first (score, then name), at most ``limit``.

    ``phone`` and ``email`` (optional) are weighed against the records that have them.
    Raises ValidationError for a blank name or an impossible date of birth, like the services.
    One SQL statement (identity.blocking), two when contact evidence meets canonical records.
    """
    first_name = clean_person_name(first_name, label="first_name")
    last_name = clean_person_name(last_name, label="last_name")
    date_of_birth = clean_date_of_birth(date_of_birth)
    query = _query(first_name, last_name, date_of_birth, phone, email)
    rows = block_rows(query.first, query.last, date_of_birth)
    # Rows are (source, pk, first, last, date, first normalized, last normalized, phone, email);
    # only the viable few become PersonRecords.
    gate = _viable(query, list(map(_NORMALIZED_NAMES, rows)))
    records = [PersonRecord(*rows[index]) for index in gate.viable]
    return _scored(query, records, gate.strong)[:limit]


def score_people(
    *, first_name, last_name, date_of_birth, records, phone=None, email=None
) -> list[Candidate]:
    """The scoring half of find_candidates, for records found elsewhere (migrate_cm_legacy):
    the ``records`` (PersonRecords) that may be this person, scored, best first.

    The one definition of "same person" in the project: compare the scores with
    auto_link_min_score() and review_min_score().
    """
    query = _query(first_name, last_name, date_of_birth, phone, email)
    records = list(records)
    gate = _viable(query, [_normalized_names(record) for record in records])
    return _scored(query, [records[index] for index in gate.viable], gate.strong)
