"""Dates of birth as people mistype them: day and month swapped, digits transposed, one digit off.

``date_of_birth_variants`` is the blocking key set of the matcher: each variant is a real date, so
a lookup is ``date_of_birth IN (...)`` on an index rather than a scan.
"""

import datetime
import functools
import itertools
from types import MappingProxyType

from identity.validators import EARLIEST_DATE_OF_BIRTH

EXACT = "exact"
DAY_MONTH_SWAPPED = "dob_day_month_swapped"
TRANSPOSED = "dob_transposed_digits"
ONE_DIGIT = "dob_one_digit_off"
DECADE_DIGIT = "dob_decade_digit_off"
DIFFERENT = "dob_differs"

# How much each kind of date difference still says "the same person". A wrong decade digit is a
# real typo but also exactly what a father and son with one name look like, so it counts less.
DATE_FACTORS = {
    EXACT: 1.0,
    DAY_MONTH_SWAPPED: 0.93,
    TRANSPOSED: 0.9,
    ONE_DIGIT: 0.88,
    DECADE_DIGIT: 0.68,
    DIFFERENT: 0.35,
}
_DECADE_POSITIONS = {0, 1, 2}  # YYYY: thousands, hundreds, tens


def _digits(value: datetime.date) -> str:
    return value.strftime("%Y%m%d")


def _from_digits(digits: str) -> datetime.date | None:
    try:
        value = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
    return value if value >= EARLIEST_DATE_OF_BIRTH else None


@functools.lru_cache(maxsize=1024)
def date_of_birth_variants(value: datetime.date) -> MappingProxyType:
    """Every real date one common slip away from ``value``, with the kind of slip (exact first)."""
    digits = _digits(value)
    variants: dict[datetime.date, str] = {value: EXACT}

    def add(candidate_digits: str, kind: str) -> None:
        candidate = _from_digits(candidate_digits)
        if candidate is not None and candidate not in variants:
            variants[candidate] = kind

    add(digits[:4] + digits[6:] + digits[4:6], DAY_MONTH_SWAPPED)
    for i, j in itertools.combinations(range(8), 2):
        if digits[i] != digits[j]:
            swapped = list(digits)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            add("".join(swapped), TRANSPOSED)
    for position in range(8):
        for digit in "0123456789":
            if digit != digits[position]:
                kind = DECADE_DIGIT if position in _DECADE_POSITIONS else ONE_DIGIT
                add(digits[:position] + digit + digits[position + 1 :], kind)
    return MappingProxyType(variants)


def compare_dates(query: datetime.date, other: datetime.date | None) -> str:
    if other is None:
        return DIFFERENT
    return date_of_birth_variants(query).get(other, DIFFERENT)
