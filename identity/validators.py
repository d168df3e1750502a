import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

EARLIEST_DATE_OF_BIRTH = datetime.date(1900, 1, 1)


def clean_person_name(value, *, label: str) -> str:
    """Return the name as typed, minus surrounding whitespace; refuse blanks and non-strings."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({label: f"Enter the patient's {label.replace('_', ' ')}."})
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
