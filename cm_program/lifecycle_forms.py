"""Forms of the supervisor's lifecycle pages (issue 12): they validate; cm_program.lifecycle and
identity.services write."""

from django import forms
from django.core.exceptions import ValidationError

from cm_program.forms import CPSSChoiceField, DateInput, IdentityFields
from cm_program.selectors import cpss_assignable
from core.forms import RecordMultipleChoiceField


def _reason_field(required_message="Give the reason for this change."):
    return forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": required_message},
    )


class ReasonForm(forms.Form):
    reason = _reason_field()


class ReactivateForm(forms.Form):
    """A supervisor's reactivation: the CPSS choice, and a new date when re-enrolling."""

    cpss_provider = CPSSChoiceField(
        label="CPSS who takes them on",
        queryset=cpss_assignable(),
        error_messages={
            "required": "Choose the CPSS who takes them on.",
            "invalid_choice": "Choose an active CPSS from the list.",
        },
    )
    enrollment_date = forms.DateField(label="New enrollment date", widget=DateInput())
    reason = _reason_field()

    def __init__(self, *args, re_enroll: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not re_enroll:
            del self.fields["enrollment_date"]


class CaseloadMoveForm(forms.Form):
    from_provider = CPSSChoiceField(
        label="Departing CPSS",
        queryset=cpss_assignable(),
        error_messages={"required": "Choose the departing CPSS."},
    )
    to_providers = RecordMultipleChoiceField(
        label="CPSS who receive the caseload",
        queryset=cpss_assignable(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one CPSS to receive the caseload.",
            "invalid_choice": "Choose CPSS from the list.",
        },
    )
    reason = _reason_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A departing CPSS may already be inactive: any CM staff can hand over.
        from providers.models import ProviderCM

        self.fields["from_provider"].queryset = ProviderCM.objects.exclude(
            role=ProviderCM.Role.ADMIN
        ).order_by("last_name", "first_name")
        self.fields["to_providers"].label_from_instance = self.fields[
            "from_provider"
        ].label_from_instance

    def clean(self):
        cleaned = super().clean()
        departing, receivers = cleaned.get("from_provider"), cleaned.get("to_providers")
        if departing and receivers and all(r.pk == departing.pk for r in receivers):
            raise ValidationError("Choose someone other than the departing CPSS.")
        return cleaned


class IdentityCorrectionForm(IdentityFields):
    reason = _reason_field("Say why the name or date of birth is corrected.")
