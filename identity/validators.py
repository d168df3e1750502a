import datetime
import unicodedata

from django.core.exceptions import ValidationError
from django.utils import timezone

EARLIEST_DATE_OF_BIRTH = datetime.date(1900, 1, 1)


# Control (incl. CR/LF), format (zero-width, right-to-left override), surrogate, private-use,
# and line/paragraph separator characters: invisible or reordering, never part of a name.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def person_name_problem(value: str) -> str | None:
    """Why a name cannot be stored ('control_or_format_character', 'no_letter'), or None.

    A name needs at least one letter: names of punctuation only all normalize to '', so all
    such people would be one."""
    if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in value):
        return "control_or_format_character"
    if not any(unicodedata.category(char).startswith("L") for char in value):
        return "no_letter"
    return None


_NAME_MESSAGES = {
    "control_or_format_character": "A name cannot hold line breaks or invisible characters.",
    "no_letter": "A name needs at least one letter.",
}


def validate_person_name(value: str) -> None:
    """Field validator (forms, admin): the message never repeats the value."""
    problem = person_name_problem(value)
    if problem:
        raise ValidationError(_NAME_MESSAGES[problem], code=problem)


def clean_person_name(value, *, label: str) -> str:
    """Return the name as typed, minus surrounding whitespace; refuse blanks, non-strings, names
    without a letter and names with control or format characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({label: f"Enter the patient's {label.replace('_', ' ')}."})
    problem = person_name_problem(value)
    if problem:
        raise ValidationError({label: _NAME_MESSAGES[problem]})
    return value.strip()


def clean_date_of_birth(value) -> datetime.date:
    """Accept a date or an ISO 'YYYY-MM-DD' string; refuse the future and dates before 1900."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(
                {"date_of_birth": "Enter the date of birth as a date (YYYY-MM-DD)."}
            ) from None
    if not isinstance(value, datetime.date):
        raise ValidationError({"date_of_birth": "Enter the date of birth as a date (YYYY-MM-DD)."})
    if value > timezone.localdate():
        raise ValidationError({"date_of_birth": "The date of birth cannot be in the future."})
    if value < EARLIEST_DATE_OF_BIRTH:
        raise ValidationError({"date_of_birth": "The date of birth cannot be before 1900."})
    return value
