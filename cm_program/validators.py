"""Field rules for CM data. Each returns the normalized value or raises ValidationError.

Messages never repeat the value typed: they may end up in logs, and values are PHI.
"""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone

US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
        "PR",
        "GU",
        "VI",
        "AS",
        "MP",
    ]
)

_PHONE_SEPARATORS = re.compile(r"[\s().\-+]")
_ZIP = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")


def normalize_us_phone(value: str) -> str:
    """'801.555.0123', '+1 801 555 0123', '(801) 555-0123' all become '(801) 555-0123'.

    NANP rules: ten digits (an optional leading country code 1), area code and exchange
    not starting with 0 or 1.
    """
    digits = _PHONE_SEPARATORS.sub("", value.strip())
    if not digits.isdigit():
        raise ValidationError("Enter a US phone number, e.g. (801) 555-0123.", code="phone")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01" or digits[3] in "01":
        raise ValidationError("Enter a US phone number, e.g. (801) 555-0123.", code="phone")
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def normalize_zip(value: str) -> str:
    match = _ZIP.match(value.strip())
    if not match:
        raise ValidationError("Enter a ZIP code of 5 or 9 digits, e.g. 84101 or 84101-1234.")
    first, plus4 = match.groups()
    return f"{first}-{plus4}" if plus4 else first


def normalize_state(value: str) -> str:
    state = value.strip().upper()
    if state not in US_STATES:
        raise ValidationError("Enter a two-letter US state code, e.g. UT.")
    return state


def validate_not_future(value: datetime.date) -> datetime.date:
    if value > timezone.localdate():
        raise ValidationError("This date cannot be in the future.")
    return value
