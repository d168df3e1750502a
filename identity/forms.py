from django import forms
from django.core.exceptions import ValidationError

from identity.models import PatientCanonical
from identity.selectors import canonical_patients_with_identity


class PatientCanonicalAdminForm(forms.ModelForm):
    """The admin's form for a person: a name and date of birth that the database would call the
    same as someone else's (case, accents, spaces aside) is a form error, not a refused INSERT."""

    class Meta:
        model = PatientCanonical
        fields = ["first_name", "last_name", "date_of_birth"]

    def clean(self):
        cleaned = super().clean()
        identity = {k: cleaned.get(k) for k in ("first_name", "last_name", "date_of_birth")}
        if all(identity.values()):
            same = canonical_patients_with_identity(**identity).exclude(pk=self.instance.pk)
            if same.exists():
                raise ValidationError(
                    "Someone with this name and date of birth is already recorded (names are "
                    "compared without case, accents or extra spaces). Open that person instead.",
                    code="duplicate_identity",
                )
        return cleaned
