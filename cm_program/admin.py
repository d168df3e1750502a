"""The CM tables in the Django admin: what carries a rule is read-only here.

An enrollment's status and CPSS change on the staff pages (``cm:enrollment-status``,
``cm:enrollment-reassign``), which call the services with their transition table, caseload
check, reason and history; points and streak come from the incentive ledger; a CM record's
status follows its enrollments. People are enrolled through the enrollment pages, never added
here. What is left editable is saved through the services too.
"""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from cm_program.models import ContingencyManagement, Enrollment, PatientCM
from cm_program.pods import enrollment_pod_choices
from cm_program.services import (
    CM_DATA_FIELDS,
    ENROLLMENT_DETAIL_FIELDS,
    cm_patient_update,
    enrollment_details_update,
)

_TIMESTAMPS = ["id", "created_at", "updated_at"]


@admin.register(ContingencyManagement)
class ContingencyManagementAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "created_at"]
    search_fields = ["name"]


class NotAddedHereMixin:
    """Rows made only by the enrollment pages (matching, caseload check, first history row)."""

    def has_add_permission(self, request, obj=None):
        return False

    def _changed(self, form, editable) -> dict:
        return {name: form.cleaned_data[name] for name in form.changed_data if name in editable}


@admin.register(PatientCM)
class PatientCMAdmin(NotAddedHereMixin, admin.ModelAdmin):
    list_display = ["canonical_patient", "status", "enrollment_source", "insurance_primary"]
    list_filter = ["status", "enrollment_source", "smartphone_access"]
    list_select_related = ["canonical_patient"]
    readonly_fields = ["canonical_patient", "status", *_TIMESTAMPS]

    def has_delete_permission(self, request, obj=None):
        # A medical record; one detached by a merge waits there for the unmerge to re-attach it.
        return False

    def save_model(self, request, obj, form, change):
        # Only the fields the form changed, through the service: status and identity never.
        cm_patient_update(cm_patient=obj, actor=request.user, **self._changed(form, CM_DATA_FIELDS))


class EnrollmentAdminForm(forms.ModelForm):
    """The pod is one of the enrollment's program's pods (cm_program.pods), or none."""

    pod_assignment = forms.ChoiceField(label="Pod", required=False)

    class Meta:
        model = Enrollment
        fields = list(ENROLLMENT_DETAIL_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pod_assignment"].choices = enrollment_pod_choices(self.instance)

    def clean_pod_assignment(self):
        return self.cleaned_data["pod_assignment"] or None


@admin.register(Enrollment)
class EnrollmentAdmin(NotAddedHereMixin, admin.ModelAdmin):
    form = EnrollmentAdminForm
    list_display = [
        "canonical_patient",
        "cm_program",
        "cpss_provider",
        "status",
        "total_points",
        "current_streak",
    ]
    list_filter = ["status", "cm_program", "cpss_provider"]
    list_select_related = ["canonical_patient", "cm_program", "cpss_provider"]
    fields = [
        "canonical_patient",
        "cm_program",
        "status",
        "cpss_provider",
        "changes",
        "total_points",
        "current_streak",
        "enrollment_date",
        "pod_assignment",
        "notes",
        "medicaid_verification",
        *_TIMESTAMPS,
    ]
    readonly_fields = [name for name in fields if name not in ENROLLMENT_DETAIL_FIELDS]

    @admin.display(description="Change")
    def changes(self, obj):
        if not obj.pk:
            return "—"
        return format_html(
            '<a href="{}">Change the status (with a reason)</a> · '
            '<a href="{}">Reassign to another CPSS</a>',
            reverse("cm:enrollment-status", args=[obj.pk]),
            reverse("cm:enrollment-reassign", args=[obj.pk]),
        )

    def has_delete_permission(self, request, obj=None):
        # An enrollment ends by its status (withdrawn); deleting it would delete its status
        # history, which the database refuses (append-only).
        return False

    def save_model(self, request, obj, form, change):
        enrollment_details_update(
            enrollment=obj, actor=request.user, **self._changed(form, ENROLLMENT_DETAIL_FIELDS)
        )
