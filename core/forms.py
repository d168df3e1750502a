"""Form fields shared by the apps' forms."""

from django import forms
from django.core.exceptions import ValidationError


def _as_invalid_choice(field, exc: ValidationError, value):
    # The database field's own words ("“x” is not a valid UUID.") for an id only a hand-made
    # POST sends: the page says what it says of any id not on its list.
    if exc.code != "invalid":
        return exc
    return ValidationError(
        field.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
    )


class RecordChoiceField(forms.ModelChoiceField):
    """A choice of one row by its id, where a malformed id reads as a choice not on the list."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as exc:
            raise _as_invalid_choice(self, exc, value) from None


class RecordMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Rows chosen by their ids, where a malformed id reads as a choice not on the list."""

    def clean(self, value):
        try:
            return super().clean(value)
        except ValidationError as exc:
            raise _as_invalid_choice(self, exc, value) from None
