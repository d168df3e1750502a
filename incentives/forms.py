"""Forms of the incentive pages: they validate input; the services decide and write."""

from django import forms
from django.utils import timezone

from cm_program.forms import SubmissionKeyField, new_submission_key
from cm_program.models import ContingencyManagement
from core.forms import RecordChoiceField
from incentives import rules
from incentives.models import STIMULANTS, CapPeriod, TestResult
from incentives.services import ISSUE_METHODS


class RecordResultForm(forms.Form):
    """The result buttons of the record page: one click saves (collected now by default)."""

    result = forms.ChoiceField(choices=[*TestResult.choices, ("missed", "Missed visit")])
    collected_at = forms.DateTimeField(
        required=False,
        label="Collected at (leave empty for now)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    positive_for = forms.MultipleChoiceField(
        required=False,
        choices=[(name, name.capitalize()) for name in STIMULANTS],
        widget=forms.CheckboxSelectMultiple,
        label="Positive for (optional)",
    )

    def collected(self):
        return self.cleaned_data.get("collected_at") or timezone.now()

    def analytes(self) -> dict:
        return dict.fromkeys(self.cleaned_data.get("positive_for") or [], rules.POSITIVE)


class CorrectTestForm(forms.Form):
    result = forms.ChoiceField(choices=TestResult.choices, label="Corrected result")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Reason (lab report)")


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class IssueForm(forms.Form):
    points = forms.IntegerField(min_value=1)
    method = forms.ChoiceField(
        choices=[(m, m.replace("_", " ").capitalize()) for m in ISSUE_METHODS]
    )
    reference = forms.CharField(required=False, label="Card or voucher number")
    # One hand-over per form shown: a double-click must not record the card twice.
    submission_key = SubmissionKeyField(initial=new_submission_key, required=False)


class ScheduleForm(forms.Form):
    """A new draft version. Weeks as lines "1-12: 2" (weeks 1 to 12, two tests a week)."""

    name = forms.CharField()
    cm_program = RecordChoiceField(
        ContingencyManagement.objects.order_by("name"),
        required=False,
        empty_label="Every program (the clinic's default)",
        error_messages={"invalid_choice": "Choose a program from the list."},
    )
    weeks = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='One range per line: "1-12: 2" means weeks 1 to 12, two tests a week.',
    )
    cents_per_point = forms.IntegerField(min_value=1, initial=50)
    base_points = forms.IntegerField(min_value=1, label="First award (points)")
    step_points = forms.IntegerField(min_value=0, initial=0, label="Step per negative (points)")
    max_points = forms.IntegerField(min_value=1, label="Largest award (points)")
    cap_points = forms.IntegerField(min_value=1, required=False, label="Cap (points)")
    cap_period = forms.ChoiceField(choices=CapPeriod.choices)
    recovery_after = forms.IntegerField(
        min_value=1, required=False, label="Recover the earlier level after N negatives"
    )
    missed_resets = forms.BooleanField(required=False, initial=True, label="A missed visit resets")
    target_analytes = forms.CharField(initial=", ".join(STIMULANTS))
    citation = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    is_example = forms.BooleanField(required=False, label="Example numbers, to be confirmed")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean_weeks(self):
        blocks = []
        for line in self.cleaned_data["weeks"].splitlines():
            if not line.strip():
                continue
            try:
                span, count = line.split(":")
                first, _, last = span.strip().partition("-")
                blocks.append(
                    {
                        "first_week": int(first),
                        "last_week": int(last or first),
                        "tests_per_week": int(count),
                    }
                )
            except ValueError:
                raise forms.ValidationError(f'"{line.strip()}" is not like "1-12: 2".') from None
        return blocks

    def clean_target_analytes(self):
        names = [n.strip().lower() for n in self.cleaned_data["target_analytes"].split(",")]
        return [n for n in names if n]

    @staticmethod
    def initial_from(schedule) -> dict:
        weeks = "\n".join(
            f"{b['first_week']}-{b['last_week']}: {b['tests_per_week']}" for b in schedule.weeks
        )
        fields = [name for name in ScheduleForm.base_fields if name not in ("weeks",)]
        initial = {name: getattr(schedule, name) for name in fields}
        initial["cm_program"] = schedule.cm_program_id
        initial["target_analytes"] = ", ".join(schedule.target_analytes)
        return {**initial, "weeks": weeks}
