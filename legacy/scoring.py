"""The migration's own name scorer, for a CM-app row and an IntakeQ row of one date of birth.

Stricter in what it compares than identity.matching (same date of birth, one name identical), which
is why it may merge a short form such as Jon/Jonathan that the general matcher leaves to staff.
"""

from decimal import Decimal

from rapidfuzz.distance import JaroWinkler


def _first_name_score(a: str, b: str) -> float:
    if a == b:
        return 1.0
    short, long = sorted((a, b), key=len)
    # 'Jon' / 'Jonathan', 'Chris' / 'Christopher': a short form written by the other app.
    if len(short) >= 3 and long.startswith(short):
        return 0.97
    return JaroWinkler.similarity(a, b)


def name_score(first_a: str, last_a: str, first_b: str, last_b: str) -> float:
    """Similarity of two normalized names of people with the same date of birth, 0..1."""
    return (_first_name_score(first_a, first_b) + JaroWinkler.similarity(last_a, last_b)) / 2


def as_score(value: float) -> Decimal:
    """A score as the link and proposal tables hold it: two decimals, 0.00 to 1.00."""
    return Decimal(str(round(min(max(value, 0.0), 1.0), 2)))
