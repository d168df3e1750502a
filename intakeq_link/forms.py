from django import forms


class PatientSearchForm(forms.Form):
    """Psychiatry's search box. A Django field refuses NUL bytes and over-long input with a
    message, where the raw value would reach the database."""

    q = forms.CharField(
        label="Search by name, date of birth, phone or IntakeQ client id",
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. Martinez, Mar 22, 1992, 03/22/1992 or (801) 555-0123"}
        ),
        max_length=100,
        required=False,
    )
