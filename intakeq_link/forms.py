from django import forms


class PatientSearchForm(forms.Form):
    """Psychiatry's search box. A Django field refuses NUL bytes and over-long input with a
    message, where the raw value would reach the database."""

    q = forms.CharField(
        label="Search by name, date of birth (YYYY-MM-DD) or IntakeQ client id",
        max_length=100,
        required=False,
    )
