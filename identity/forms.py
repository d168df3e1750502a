"""Admin forms for identity stewardship: decisions on pairs, merge, unmerge, correction."""

from django import forms
from django.core.exceptions import ValidationError

from identity.dates import DATE_FORMATS_HELP, DateField
from identity.merging import KEEP, MERGE
from identity.models import PatientCanonical
from identity.selectors import canonical_patients_with_identity
from identity.validators import clean_date_of_birth

SAME, DIFFERENT = "same", "different"
_CONFIRM_LABEL = "I have compared both records above."


class PairDecisionForm(forms.Form):
    """Same person or different people, with a note (required to reject) and a confirmation."""

    decision = forms.ChoiceField(
        choices=[(SAME, "Same person"), (DIFFERENT, "Different people")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Why you decided so. Required for 'Different people'.",
    )
    confirm = forms.BooleanField(label=_CONFIRM_LABEL)

    def __init__(self, *args, same_label: str = "Same person", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [(SAME, same_label), (DIFFERENT, "Different people")]

    def clean(self):
        data = super().clean()
        if data.get("decision") == DIFFERENT and not (data.get("note") or "").strip():
            self.add_error("note", "Say why these are different people.")
        return data


class RejectForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Why these are different people."
    )
    confirm = forms.BooleanField(label=_CONFIRM_LABEL)


class MergeForm(forms.Form):
    """One radio per one-per-person rule (whose row survives), the reason, a confirmation."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(
        label="I have checked both records: they are one person. Merge them."
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        for choice in choices:
            self.fields[f"choice__{choice.key}"] = forms.ChoiceField(
                label=f"{choice.label}: keep",
                choices=[(KEEP, choice.keep_row), (MERGE, choice.merge_row)],
                initial=KEEP,
                widget=forms.RadioSelect,
            )

    def merge_choices(self) -> dict[str, str]:
        prefix = "choice__"
        return {
            name[len(prefix) :]: value
            for name, value in self.cleaned_data.items()
            if name.startswith(prefix)
        }


class UnmergeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(label="Undo this merge: put every moved row back.")


class CorrectionForm(forms.Form):
    first_name = forms.CharField()
    last_name = forms.CharField()
    date_of_birth = DateField(help_text=DATE_FORMATS_HELP)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Kept in the audit trail."
    )


class PatientCanonicalAdminForm(forms.ModelForm):
    """The admin's form for a person: a name and date of birth that the database would call the
    same as someone else's (case, accents, spaces aside) is a form error, not a refused INSERT."""

    class Meta:
        model = PatientCanonical
        fields = ["first_name", "last_name", "date_of_birth"]

    def clean_date_of_birth(self):
        # The rule find-or-create and correction apply: not in the future, not before 1900.
        try:
            return clean_date_of_birth(self.cleaned_data["date_of_birth"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["date_of_birth"]) from None

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
