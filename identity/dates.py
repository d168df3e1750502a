"""Dates of birth as people type them, and as people mistype them.

``parse_date`` is the one date parser of every search box and date field (the CM list, the
psychiatry search, the enrollment searches and forms): ISO (1992-03-22), US (03/22/1992,
3-22-1992) and the format the pages show (Mar 22, 1992; March 22 1992). ``DateField`` is a form
field that reads dates with it.

``date_of_birth_variants`` is the blocking key set of the matcher: each variant is a real date, so
a lookup is ``date_of_birth IN (...)`` on an index rather than a scan. Its slips are day and month
swapped, digits transposed, one digit off.
"""

import datetime
import functools
import itertools
import re
from types import MappingProxyType

from django import forms

from identity.validators import EARLIEST_DATE_OF_BIRTH

# Four-digit years only: "3/22/92" could be 1892, 1992 or 2092, and a birth date must not guess.
_NUMERIC = (
    re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"),
    re.compile(r"(?P<month>\d{1,2})[/.-](?P<day>\d{1,2})[/.-](?P<year>\d{4})"),
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")],
        start=1,
    )
    for name in names
}  # fmt: skip
# "Mar 22, 1992" (how the pages show a date), "March 22 1992", "Mar. 22, 1992", "22 Mar 1992".
_WORDS = (
    re.compile(r"(?P<month>[a-z]+)\.? (?P<day>\d{1,2}),? (?P<year>\d{4})"),
    re.compile(r"(?P<day>\d{1,2}) (?P<month>[a-z]+)\.?,? (?P<year>\d{4})"),
)
DATE_FORMATS_HELP = "e.g. Mar 22, 1992, 03/22/1992 or 1992-03-22"


def parse_date(text: str) -> datetime.date | None:
    """The date ``text`` names in one of the accepted formats, else None (never raises)."""
    text = " ".join(str(text).lower().split())
    if len(text) > 20:
        return None
    for pattern in _NUMERIC:
        if match := pattern.fullmatch(text):
            return _date(match["year"], match["month"], match["day"])
    for pattern in _WORDS:
        if (match := pattern.fullmatch(text)) and match["month"] in _MONTHS:
            return _date(match["year"], _MONTHS[match["month"]], match["day"])
    return None


def _date(year, month, day) -> datetime.date | None:
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        return None


class DateField(forms.DateField):
    """A form date field that reads every format ``parse_date`` accepts (a date input sends ISO;
    a typed or pasted date may be in any of them)."""

    default_error_messages = {"invalid": f"Enter a real date, {DATE_FORMATS_HELP}."}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        parsed = parse_date(value)
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


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
# Each digit of YYYYMMDD as (part of (year, month, day), place value): a slip is computed on the
# numbers, not by rebuilding and parsing strings, since each lookup makes a hundred of them.
_DIGIT_PLACES = ((0, 1000), (0, 100), (0, 10), (0, 1), (1, 10), (1, 1), (2, 10), (2, 1))


@functools.lru_cache(maxsize=1024)
def date_of_birth_variants(value: datetime.date) -> MappingProxyType:
    """Every real date one common slip away from ``value``, with the kind of slip (exact first).

    A date two slips could reach keeps the first kind found: day and month swapped, then two
    digits transposed, then one digit off.
    """
    digits = [int(digit) for digit in f"{value.year:04d}{value.month:02d}{value.day:02d}"]
    variants: dict[datetime.date, str] = {value: EXACT}

    def add(kind: str, *changes: tuple[int, int]) -> None:
        """Record the date with each (digit position, new digit) of ``changes`` applied."""
        parts = [value.year, value.month, value.day]
        for position, digit in changes:
            part, place = _DIGIT_PLACES[position]
            parts[part] += (digit - digits[position]) * place
        year, month, day = parts
        # Most slips give an impossible month or day: refused before the (slow) exception path.
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return
        try:
            candidate = datetime.date(year, month, day)
        except ValueError:  # year 0, or a day the month does not have
            return
        if candidate >= EARLIEST_DATE_OF_BIRTH and candidate not in variants:
            variants[candidate] = kind

    # Day and month swapped: MMDD read as DDMM.
    add(DAY_MONTH_SWAPPED, (4, digits[6]), (5, digits[7]), (6, digits[4]), (7, digits[5]))
    for i, j in itertools.combinations(range(8), 2):
        if digits[i] != digits[j]:
            add(TRANSPOSED, (i, digits[j]), (j, digits[i]))
    for position in range(8):
        kind = DECADE_DIGIT if position in _DECADE_POSITIONS else ONE_DIGIT
        for digit in range(10):
            if digit != digits[position]:
                add(kind, (position, digit))
    return MappingProxyType(variants)


def compare_dates(query: datetime.date, other: datetime.date | None) -> str:
    if other is None:
        return DIFFERENT
    return date_of_birth_variants(query).get(other, DIFFERENT)
