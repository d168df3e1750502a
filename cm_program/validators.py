"""Field rules for CM data. Each returns the normalized value or raises ValidationError.

Messages never repeat the value typed: they may end up in logs, and values are PHI.
"""

import datetime
import re
import unicodedata

import phonenumbers
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

_ZIP = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")
_PHONE_MESSAGE = "Enter a US phone number, e.g. (801) 555-0123."


def ascii_digits(value: str) -> str:
    """Full-width forms as ASCII (NFKC), and the decimal digits of any script (Arabic-Indic,
    Devanagari...) as ASCII digits: what is stored is always ASCII."""
    text = unicodedata.normalize("NFKC", value)
    return "".join(
        str(unicodedata.decimal(char)) if not char.isascii() and char.isdecimal() else char
        for char in text
    )


def normalize_us_phone(value: str) -> str:
    """'801.555.0123', '+1 801 555 0123', '(801) 555-0123' all become '(801) 555-0123'.

    libphonenumber parses and validates: a North American (NANP, country code 1) number whose
    area code is in service. The column holds one number only, so the text must be that number
    and nothing else: letters (an extension, a note, a vanity number) and stray digits (a second
    number, an extension after '#') are refused rather than silently dropped.
    """
    value = ascii_digits(value)
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in value):
        raise ValidationError(_PHONE_MESSAGE, code="phone")
    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        raise ValidationError(_PHONE_MESSAGE, code="phone") from None
    national = str(number.national_number)
    typed = phonenumbers.normalize_digits_only(value)
    if (
        number.country_code != 1
        or not phonenumbers.is_valid_number(number)
        or typed not in (national, f"1{national}")
        or any(char.isalpha() for char in value)
    ):
        raise ValidationError(_PHONE_MESSAGE, code="phone")
    # NANP numbers share the US national format, which is the stored one: (801) 555-0123.
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


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
