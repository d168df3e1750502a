"""Forms of the CPSS pages. They validate and normalize; services do the writing."""

import datetime
import secrets

from django import forms
from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError
from django.utils import timezone

from cm_program import validators
from cm_program.models import ParticipationStatus, PatientCM
from cm_program.pods import enrollment_pod_choices, pods_offered
from cm_program.selectors import cpss_assignable, programs_open
from core.forms import RecordChoiceField
from identity.dates import DateField
from identity.validators import (
    EARLIEST_DATE_OF_BIRTH,
    clean_date_of_birth,
    validate_person_name,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _clean_optional(value, normalize):
    return normalize(value) if value else ""


class CPSSChoiceField(RecordChoiceField):
    def label_from_instance(self, obj):
        count = getattr(obj, "active_count", None)
        if count is None or obj.max_caseload is None:
            return str(obj)
        return f"{obj} ({count} of {obj.max_caseload} active)"


class IdentityFields(forms.Form):
    first_name = forms.CharField(max_length=100, validators=[validate_person_name])
    last_name = forms.CharField(max_length=100, validators=[validate_person_name])
    # No autocomplete="off": browsers then drop the typed date when the user goes back (#12).
    date_of_birth = DateField(widget=DateInput(attrs={"min": EARLIEST_DATE_OF_BIRTH.isoformat()}))

    def clean_date_of_birth(self):
        try:
            return clean_date_of_birth(self.cleaned_data["date_of_birth"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["date_of_birth"]) from None


class CMDataFields(forms.Form):
    phone = forms.CharField(
        max_length=30, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    email = forms.EmailField(required=False)
    insurance_primary = forms.CharField(label="Primary insurance", max_length=100, required=False)
    medicaid_id = forms.CharField(label="Medicaid ID", max_length=30, required=False)
    # No preset: the user says where the participant came from (a blank first option).
    enrollment_source = forms.ChoiceField(
        choices=[
            ("", "Choose…"),
            *(
                c
                for c in PatientCM.EnrollmentSource.choices
                if c[0] != PatientCM.EnrollmentSource.EXISTING_PATIENT
            ),
        ],
        error_messages={"required": "Say where the participant comes from."},
    )
    consent_date = forms.DateField(required=False, widget=DateInput())
    smartphone_access = forms.ChoiceField(
        choices=[("", "—"), *PatientCM.SmartphoneAccess.choices], required=False
    )
    emergency_contact_name = forms.CharField(max_length=100, required=False)
    emergency_contact_phone = forms.CharField(
        max_length=30, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    address_street = forms.CharField(label="Street", max_length=200, required=False)
    address_city = forms.CharField(label="City", max_length=100, required=False)
    address_state = forms.CharField(label="State", max_length=2, required=False, initial="UT")
    address_zip = forms.CharField(label="ZIP", max_length=10, required=False)
    preferred_language = forms.CharField(max_length=50, required=False, initial="English")

    def clean_phone(self):
        return _clean_optional(self.cleaned_data["phone"], validators.normalize_us_phone)

    def clean_emergency_contact_phone(self):
        return _clean_optional(
            self.cleaned_data["emergency_contact_phone"], validators.normalize_us_phone
        )

    def clean_email(self):
        # Only the domain is case-insensitive; the local part is kept as typed.
        return BaseUserManager.normalize_email(self.cleaned_data["email"])

    def clean_address_state(self):
        return _clean_optional(self.cleaned_data["address_state"], validators.normalize_state)

    def clean_address_zip(self):
        return _clean_optional(self.cleaned_data["address_zip"], validators.normalize_zip)

    def clean_consent_date(self):
        consent = self.cleaned_data["consent_date"]
        if consent is None:
            return None
        return validators.validate_not_future(consent)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("emergency_contact_phone") and not cleaned.get("emergency_contact_name"):
            self.add_error("emergency_contact_name", "Give the emergency contact's name too.")
        return cleaned

    def cm_data(self, only: list[str] | None = None) -> dict:
        """The cleaned CM fields as PatientCM values (blank text as NULL, consent as a time).

        ``only`` limits them to those names (the fields the user changed).
        """
        data = {}
        for name in CMDataFields.base_fields:
            if name not in self.fields or (only is not None and name not in only):
                continue
            value = self.cleaned_data.get(name)
            data[name] = value if value not in ("", None) else None
        if data.get("consent_date"):
            # The column is a timestamp; a consent date means that day, in the clinic's zone.
            data["consent_date"] = timezone.make_aware(
                datetime.datetime.combine(data["consent_date"], datetime.time(12))
            )
        return data


def pod_choices():
    """The pods of each open program, grouped by program (the service checks the pair)."""
    groups: dict[str, list] = {}
    for pod in pods_offered():
        groups.setdefault(pod.cm_program.name, []).append((pod.name, pod.name))
    return [("", "No pod"), *groups.items()]


class EnrollmentFields(forms.Form):
    cm_program = RecordChoiceField(
        label="Program",
        queryset=programs_open(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose a program from the list."},
    )
    cpss_provider = CPSSChoiceField(label="CPSS", queryset=cpss_assignable())
    pod_assignment = forms.ChoiceField(label="Pod", required=False, choices=pod_choices)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class SubmissionKeyField(forms.CharField):
    """A one-time key rendered into the form, so a double-click enrolls once."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(min_length=16, max_length=64, **kwargs)


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


class NewPatientEnrollmentForm(IdentityFields, CMDataFields, EnrollmentFields):
    """Scenario 1: identity, CM data and enrollment in one form."""

    submission_key = SubmissionKeyField()


class ExistingPatientSearchForm(forms.Form):
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100)
    date_of_birth = DateField(widget=DateInput())


class ExistingPatientEnrollmentForm(CMDataFields, EnrollmentFields):
    """Scenario 2: the IntakeQ patient is chosen; the source is always 'existing_patient'."""

    intakeq_patient = forms.UUIDField(widget=forms.HiddenInput)
    submission_key = SubmissionKeyField()
    # The search the user came from (its opaque id), for "Back to search".
    back_search = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["enrollment_source"]


class CMDataEditForm(CMDataFields):
    """Bound with ``initial=initial_from(cm)``: ``changed_cm_data()`` is only what the user
    changed, so an untouched consent time (2:57 a.m.) is never rewritten as noon of its day."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        source = self.fields["enrollment_source"]
        source.choices = [("", "—"), *PatientCM.EnrollmentSource.choices]
        source.required = False  # old records may have none; the edit keeps it unknown

    def changed_cm_data(self) -> dict:
        return self.cm_data(only=self.changed_data)

    @staticmethod
    def initial_from(cm_patient: PatientCM) -> dict:
        initial = {name: getattr(cm_patient, name) or "" for name in CMDataFields.base_fields}
        if cm_patient.consent_date:
            initial["consent_date"] = timezone.localtime(cm_patient.consent_date).date()
        return initial


class EnrollmentStatusForm(forms.Form):
    to_status = forms.ChoiceField(label="New status", choices=ParticipationStatus.choices)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Give the reason for this change."},
    )

    confirm_final = forms.BooleanField(
        label="I understand this status is final: only a supervisor can undo it, within 30 days.",
        required=False,
    )

    FINAL = (ParticipationStatus.GRADUATED, ParticipationStatus.WITHDRAWN)

    def __init__(self, *args, allowed: frozenset[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [
            c for c in ParticipationStatus.choices if c[0] in allowed
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("to_status") in self.FINAL and not cleaned.get("confirm_final"):
            self.add_error(
                "confirm_final",
                "Graduated and withdrawn are final: tick the box to confirm.",
            )
        return cleaned


class EnrollmentPodForm(forms.Form):
    pod_assignment = forms.ChoiceField(label="Pod", required=False)

    def __init__(self, data=None, *, enrollment):
        super().__init__(data, initial={"pod_assignment": enrollment.pod_assignment or ""})
        self.fields["pod_assignment"].choices = enrollment_pod_choices(enrollment)


class EnrollmentReassignForm(forms.Form):
    cpss_provider = CPSSChoiceField(
        label="New CPSS",
        queryset=cpss_assignable(),
        error_messages={"invalid_choice": "Choose an active CPSS from the list."},
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Give the reason for this reassignment."},
    )


class SupervisorDecisionForm(forms.Form):
    """A supervisor's decision on a queued enrollment: who they are, whose caseload, and why."""

    NEW_PERSON = "new"
    DECLINE = "decline"
    REACTIVATE = "reactivate"

    decision = forms.ChoiceField(
        widget=forms.RadioSelect, error_messages={"required": "Choose a decision."}
    )
    cpss_provider = CPSSChoiceField(
        label="CPSS",
        queryset=cpss_assignable(),
        required=False,
        error_messages={"invalid_choice": "Choose an active CPSS from the list."},
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Say why, for the record."},
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = list(choices)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") not in (None, self.DECLINE) and not cleaned.get("cpss_provider"):
            self.add_error("cpss_provider", "Choose the CPSS whose caseload they join.")
        return cleaned
