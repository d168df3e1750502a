"""CPSS pages. Thin: forms validate, services write, selectors read (always ``visible_to``)."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from access_log.recording import PatientKind, record_patient_view
from cm_program import selectors, services
from cm_program.drafts import add_errors, errors_of, form_again, form_post
from cm_program.enroll_views import EnrollExistingView, EnrollNewView
from cm_program.forms import (
    CMDataEditForm,
    EnrollmentPodForm,
    EnrollmentReassignForm,
    EnrollmentStatusForm,
)
from cm_program.models import ALLOWED_STATUS_TRANSITIONS, Enrollment, ParticipationStatus
from staff.access import access_required

__all__ = [
    "EnrollExistingView",  # in cm_program.enroll_views, kept importable from here
    "EnrollNewView",
    "EnrollmentPodView",
    "EnrollmentReassignView",
    "EnrollmentStatusView",
    "PatientDetailView",
    "PatientEditView",
]


def _add_service_errors(form, error: ValidationError) -> None:
    """A service's refusal on the form that is rendered again (drafts' rules, "already
    enrolled" included)."""
    add_errors(form, errors_of(error))


@access_required("cm_program.view_patientcm")
class PatientDetailView(View):
    def get(self, request, canonical_patient_id):
        patient = get_object_or_404(
            selectors.canonical_patients_visible_to(request.user), pk=canonical_patient_id
        )
        page = selectors.patient_page(user=request.user, patient=patient)
        record_patient_view(request, patient_kind=PatientKind.CANONICAL, patient_id=patient.pk)
        return render(
            request,
            "cm/patient_detail.html",
            {
                "page": page,
                "patient": patient,
                "cm": page.cm_record,
                "transitions": {k: bool(v) for k, v in ALLOWED_STATUS_TRANSITIONS.items()},
            },
        )


@access_required("cm_program.view_patientcm", "cm_program.change_patientcm")
class PatientEditView(View):
    def _load(self, request, canonical_patient_id):
        patient = get_object_or_404(
            selectors.canonical_patients_visible_to(request.user), pk=canonical_patient_id
        )
        cm = selectors.patient_page(user=request.user, patient=patient).cm_record
        if cm is None:
            raise Http404("No CM record")
        return patient, cm

    def get(self, request, canonical_patient_id):
        patient, cm = self._load(request, canonical_patient_id)
        record_patient_view(request, patient_kind=PatientKind.CANONICAL, patient_id=patient.pk)
        initial = CMDataEditForm.initial_from(cm)
        form = form_again(  # after an error: what was typed, with the errors
            request,
            scope=self._scope(patient),
            make_form=lambda data: CMDataEditForm(data, initial=initial),
        )
        return render(request, "cm/patient_edit.html", {"form": form, "patient": patient})

    def post(self, request, canonical_patient_id):
        patient, cm = self._load(request, canonical_patient_id)
        form = CMDataEditForm(request.POST, initial=CMDataEditForm.initial_from(cm))

        def save() -> str:
            # Only what the user changed: an untouched consent time is never rewritten.
            services.cm_patient_update(cm_patient=cm, actor=request.user, **form.changed_cm_data())
            return "CM details saved." if form.has_changed() else "Nothing changed."

        return form_post(
            request,
            form=form,
            scope=self._scope(patient),
            perform=save,
            done=lambda: redirect("cm:patient-detail", canonical_patient_id=patient.pk),
        )

    @staticmethod
    def _scope(patient) -> str:
        return f"cm:patient-edit:{patient.pk}"


class EnrollmentActionView(View):
    """One change to one visible enrollment through a form and a service; back to the patient."""

    template_name: str

    def make_form(self, enrollment, data=None):
        raise NotImplementedError

    def perform(self, enrollment, form) -> str:
        """Call the service; return the success message. A ValidationError goes to the form."""
        raise NotImplementedError

    def _load(self, request, enrollment_id):
        return get_object_or_404(
            Enrollment.objects.visible_to(request.user).select_related(
                "canonical_patient", "cm_program", "cpss_provider"
            ),
            pk=enrollment_id,
        )

    def context(self, enrollment) -> dict:
        return {}

    def _render(self, request, enrollment, form):
        context = {"form": form, "enrollment": enrollment, **self.context(enrollment)}
        return render(request, self.template_name, context)

    def get(self, request, enrollment_id):
        enrollment = self._load(request, enrollment_id)
        record_patient_view(
            request,
            patient_kind=PatientKind.CANONICAL,
            patient_id=enrollment.canonical_patient_id,
        )
        form = form_again(
            request,
            scope=self._scope(enrollment),
            make_form=lambda data: self.make_form(enrollment, data),
        )
        return self._render(request, enrollment, form)

    def post(self, request, enrollment_id):
        enrollment = self._load(request, enrollment_id)
        form = self.make_form(enrollment, request.POST)
        return form_post(
            request,
            form=form,
            scope=self._scope(enrollment),
            perform=lambda: self.perform(enrollment, form),
            done=lambda: redirect(
                "cm:patient-detail", canonical_patient_id=enrollment.canonical_patient_id
            ),
        )

    def _scope(self, enrollment) -> str:
        return f"cm:{type(self).__name__}:{enrollment.pk}"


@access_required("cm_program.view_enrollment", "cm_program.change_enrollment")
class EnrollmentStatusView(EnrollmentActionView):
    template_name = "cm/enrollment_status.html"

    def make_form(self, enrollment, data=None):
        allowed = ALLOWED_STATUS_TRANSITIONS.get(
            enrollment.status or ParticipationStatus.ACTIVE, frozenset()
        )
        return EnrollmentStatusForm(data, allowed=allowed)

    def context(self, enrollment) -> dict:
        # Worked out on every GET (the refusal itself comes back through the redirect's draft):
        # a paused person whose CPSS has no room is reactivated by a supervisor.
        return {
            "caseload_full": enrollment.status == ParticipationStatus.PAUSED
            and selectors.cpss_caseload_is_full(provider=enrollment.cpss_provider)
        }

    def perform(self, enrollment, form) -> str:
        try:
            services.enrollment_status_change(
                enrollment=enrollment,
                to_status=form.cleaned_data["to_status"],
                reason=form.cleaned_data["reason"],
                actor=self.request.user,
            )
        except ValidationError as exc:
            full = getattr(exc, "error_dict", {}).get("cpss_provider")
            if not full:
                raise
            # No CPSS field here: the page says who can act (a supervisor) and how to ask.
            text = " ".join(full[0].messages).replace(" Choose another CPSS.", "")
            raise ValidationError(
                f"{text} A supervisor can reactivate them onto another CPSS's caseload."
            ) from None
        label = ParticipationStatus(form.cleaned_data["to_status"]).label.lower()
        return f"Enrollment in {enrollment.cm_program} is now {label}."


@access_required("cm_program.view_enrollment", "cm_program.reassign_cpss")
class EnrollmentReassignView(EnrollmentActionView):
    """A supervisor moves an enrollment to another CPSS, under the caseload rule."""

    template_name = "cm/enrollment_reassign.html"

    def make_form(self, enrollment, data=None):
        return EnrollmentReassignForm(data)

    def perform(self, enrollment, form) -> str:
        cpss_provider = form.cleaned_data["cpss_provider"]
        services.enrollment_cpss_reassign(
            enrollment=enrollment,
            cpss_provider=cpss_provider,
            actor=self.request.user,
            reason=form.cleaned_data["reason"],
        )
        return f"Enrollment in {enrollment.cm_program} is now with {cpss_provider}."


@access_required("cm_program.view_enrollment", "cm_program.change_enrollment")
class EnrollmentPodView(EnrollmentActionView):
    """Move an enrollment into another of its program's pods, or out of any."""

    template_name = "cm/enrollment_pod.html"

    def make_form(self, enrollment, data=None):
        return EnrollmentPodForm(data, enrollment=enrollment)

    def perform(self, enrollment, form) -> str:
        pod = form.cleaned_data["pod_assignment"] or None
        services.enrollment_details_update(
            enrollment=enrollment, actor=self.request.user, pod_assignment=pod
        )
        return f"Now in pod {pod}." if pod else "Now in no pod."
