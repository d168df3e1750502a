"""An enrollment's life after enrolling (issue 12): a supervisor's reactivation (re-enrolling a
withdrawn person too), the 30-day undo of a final status, a CPSS's request when their caseload
is full, moving a departing CPSS's whole caseload, and correcting a person's identity."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.decorators.http import require_POST

from access_log.recording import PatientKind, record_patient_view
from cm_program import lifecycle, selectors, supervisor_requests
from cm_program.lifecycle_forms import (
    CaseloadMoveForm,
    IdentityCorrectionForm,
    ReactivateForm,
    ReasonForm,
)
from cm_program.models import Enrollment, ParticipationStatus
from cm_program.views import EnrollmentActionView, _add_service_errors
from identity.services import CORRECT_PERMISSION, MERGE_PERMISSION, canonical_patient_correct
from staff.access import access_required, is_admin

SUPERVISOR = ("cm_program.view_enrollment", lifecycle.SUPERVISOR_PERMISSION)


@access_required(*SUPERVISOR)
class EnrollmentReactivateView(EnrollmentActionView):
    """A paused enrollment back to active, or a withdrawn person re-enrolled, onto the CPSS the
    supervisor chooses."""

    template_name = "cm/enrollment_reactivate.html"

    def make_form(self, enrollment, data=None):
        initial = {"cpss_provider": enrollment.cpss_provider_id}
        re_enroll = enrollment.status == ParticipationStatus.WITHDRAWN
        return ReactivateForm(data, initial=initial, re_enroll=re_enroll)

    def perform(self, enrollment, form) -> str:
        data = form.cleaned_data
        lifecycle.enrollment_reactivate(
            enrollment=enrollment,
            reason=data["reason"],
            actor=self.request.user,
            cpss_provider=data["cpss_provider"],
            enrollment_date=data.get("enrollment_date"),
        )
        return (
            f"Enrollment in {enrollment.cm_program} is active again, with {data['cpss_provider']}."
        )


@access_required(*SUPERVISOR)
class EnrollmentUndoFinalView(EnrollmentActionView):
    template_name = "cm/enrollment_undo_final.html"

    def make_form(self, enrollment, data=None):
        return ReasonForm(data)

    def context(self, enrollment) -> dict:
        return {"window": lifecycle.final_status_undo_window(enrollment)}

    def perform(self, enrollment, form) -> str:
        undone = lifecycle.enrollment_final_status_undo(
            enrollment=enrollment, reason=form.cleaned_data["reason"], actor=self.request.user
        )
        return f"Undone: the enrollment in {enrollment.cm_program} is {undone.status} again."


@require_POST
@access_required("cm_program.view_enrollment", "cm_program.change_enrollment")
def enrollment_reactivation_request(request, enrollment_id):
    """One click from the status page when the CPSS's caseload is full: into the supervisor
    queue, with the reason they typed."""
    enrollment = get_object_or_404(Enrollment.objects.visible_to(request.user), pk=enrollment_id)
    back = redirect("cm:patient-detail", canonical_patient_id=enrollment.canonical_patient_id)
    back.status_code = 303  # See Other: the answer to a POST is a GET of the patient's page
    try:
        supervisor_requests.supervisor_request_reactivation_create(
            actor=request.user,
            enrollment=enrollment,
            reason=request.POST.get("reason") or "Reactivation asked from a full caseload.",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return back
    messages.success(
        request,
        "Sent to a supervisor: they can reactivate this enrollment onto a CPSS with room.",
    )
    return back


@access_required(*SUPERVISOR)
class CaseloadMoveView(View):
    """Move a departing CPSS's whole caseload at once, all or nothing."""

    template_name = "cm/caseload_move.html"

    def get(self, request):
        return render(request, self.template_name, {"form": CaseloadMoveForm()})

    def post(self, request):
        form = CaseloadMoveForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                moved = lifecycle.cpss_caseload_move(
                    from_provider=data["from_provider"],
                    to_providers=list(data["to_providers"]),
                    reason=data["reason"],
                    actor=request.user,
                )
            except ValidationError as exc:
                _add_service_errors(form, exc)
            else:
                messages.success(
                    request, f"Moved {moved} enrollments away from {data['from_provider']}."
                )
                return redirect("cm:caseload-move")
        return render(request, self.template_name, {"form": form})


@access_required("cm_program.view_patientcm", CORRECT_PERMISSION)
class PatientCorrectView(View):
    """A supervisor corrects a name or date of birth with a reason (identity's audit trail). A
    correction that makes them another person on file offers the merge, an admin's page."""

    template_name = "cm/patient_correct.html"

    def _load(self, request, canonical_patient_id):
        patient = get_object_or_404(
            selectors.canonical_patients_visible_to(request.user), pk=canonical_patient_id
        )
        record_patient_view(request, patient_kind=PatientKind.CANONICAL, patient_id=patient.pk)
        return patient

    def _render(self, request, patient, form, same_as=None):
        merge_url = None
        if (
            same_as is not None
            and is_admin(request.user)
            and request.user.has_perm(MERGE_PERMISSION)
        ):
            merge_url = reverse("admin:identity_patientcanonical_merge", args=[same_as, patient.pk])
        context = {"form": form, "patient": patient, "same_as": same_as, "merge_url": merge_url}
        return render(request, self.template_name, context)

    def get(self, request, canonical_patient_id):
        patient = self._load(request, canonical_patient_id)
        initial = {f: getattr(patient, f) for f in ("first_name", "last_name", "date_of_birth")}
        return self._render(request, patient, IdentityCorrectionForm(initial=initial))

    def post(self, request, canonical_patient_id):
        patient = self._load(request, canonical_patient_id)
        form = IdentityCorrectionForm(request.POST)
        if not form.is_valid():
            return self._render(request, patient, form)
        try:
            canonical_patient_correct(actor=request.user, patient=patient, **form.cleaned_data)
        except ValidationError as exc:
            if getattr(exc, "code", None) == "same_as_other":
                # The other person's id only: their name and birth date stay on pages the user
                # may open (the admin's merge page, which logs the view).
                form.add_error(None, "Someone else on file already has this name and birth date.")
                # The kept person when the other was merged: a merge into them is what works.
                kept = exc.params["kept_id"]
                same_as = kept if kept != patient.pk else None
                return self._render(request, patient, form, same_as=same_as)
            _add_service_errors(form, exc)
            return self._render(request, patient, form)
        messages.success(request, "Identity corrected; the reason is kept in the history.")
        return redirect("cm:patient-detail", canonical_patient_id=patient.pk)
