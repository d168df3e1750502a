"""CPSS pages. Thin: forms validate, services write, selectors read (always ``visible_to``)."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View

from access_log.recording import PatientKind, record_patient_view
from cm_program import selectors, services, supervisor_requests, supervisor_views
from cm_program.forms import (
    CMDataEditForm,
    EnrollmentReassignForm,
    EnrollmentStatusForm,
    ExistingPatientEnrollmentForm,
    ExistingPatientSearchForm,
    NewPatientEnrollmentForm,
    new_submission_key,
)
from cm_program.models import ALLOWED_STATUS_TRANSITIONS, Enrollment, ParticipationStatus
from core.searches import search_params, search_query, search_redirect
from identity.models import PatientCanonical
from intakeq_link.models import PatientIntakeQLink
from staff.access import access_required

EXISTING_SEARCH_SCOPE = "cm:enroll-existing"


def _add_service_errors(form, error: ValidationError) -> None:
    for field, messages_ in error.message_dict.items():
        target = field if field in form.fields else None
        for message in messages_:
            form.add_error(target if field != NON_FIELD_ERRORS else None, message)


def _after_enrollment(request, result: services.EnrollResult):
    patient = result.enrollment.canonical_patient
    messages.success(
        request,
        f"{patient.first_name} {patient.last_name} is enrolled in {result.enrollment.cm_program}.",
    )
    if not result.canonical_created:
        messages.info(request, "They were already known here: their existing record was used.")
    if result.cm_record_reused:
        messages.warning(
            request,
            "They already had a CM record, which was kept as it was: edit it here if needed.",
        )
    return _to_patient(request, patient)


def _to_patient(request, patient: PatientCanonical | None):
    if patient is not None and (
        selectors.canonical_patients_visible_to(request.user).filter(pk=patient.pk).exists()
    ):
        return redirect("cm:patient-detail", canonical_patient_id=patient.pk)
    # Enrolled onto another CPSS's caseload: this user may not open the page.
    return redirect("cm:patient-list")


def _resent(request):
    """A redirect when this form's one-time key was already used (back button, double-click)."""
    used = selectors.used_submission(key=request.POST.get("submission_key", ""), user=request.user)
    if used is None:
        return None
    return _already_submitted(request, services.AlreadySubmitted(used.enrollment))


def _already_submitted(request, exc: services.AlreadySubmitted):
    messages.info(request, "This form was already submitted; nothing was saved twice.")
    enrollment = exc.enrollment
    return _to_patient(request, enrollment.canonical_patient if enrollment else None)


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
        form = CMDataEditForm(initial=CMDataEditForm.initial_from(cm))
        return render(request, "cm/patient_edit.html", {"form": form, "patient": patient})

    def post(self, request, canonical_patient_id):
        patient, cm = self._load(request, canonical_patient_id)
        form = CMDataEditForm(request.POST)
        if form.is_valid():
            try:
                services.cm_patient_update(cm_patient=cm, actor=request.user, **form.cm_data())
            except ValidationError as exc:
                _add_service_errors(form, exc)
            else:
                messages.success(request, "CM details saved.")
                return redirect("cm:patient-detail", canonical_patient_id=patient.pk)
        return render(request, "cm/patient_edit.html", {"form": form, "patient": patient})


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

    def _render(self, request, enrollment, form):
        return render(request, self.template_name, {"form": form, "enrollment": enrollment})

    def get(self, request, enrollment_id):
        enrollment = self._load(request, enrollment_id)
        record_patient_view(
            request,
            patient_kind=PatientKind.CANONICAL,
            patient_id=enrollment.canonical_patient_id,
        )
        return self._render(request, enrollment, self.make_form(enrollment))

    def post(self, request, enrollment_id):
        enrollment = self._load(request, enrollment_id)
        form = self.make_form(enrollment, request.POST)
        if form.is_valid():
            try:
                message = self.perform(enrollment, form)
            except ValidationError as exc:
                _add_service_errors(form, exc)
            else:
                messages.success(request, message)
                return redirect(
                    "cm:patient-detail", canonical_patient_id=enrollment.canonical_patient_id
                )
        return self._render(request, enrollment, form)


@access_required("cm_program.view_enrollment", "cm_program.change_enrollment")
class EnrollmentStatusView(EnrollmentActionView):
    template_name = "cm/enrollment_status.html"

    def make_form(self, enrollment, data=None):
        allowed = ALLOWED_STATUS_TRANSITIONS.get(
            enrollment.status or ParticipationStatus.ACTIVE, frozenset()
        )
        return EnrollmentStatusForm(data, allowed=allowed)

    def perform(self, enrollment, form) -> str:
        services.enrollment_status_change(
            enrollment=enrollment,
            to_status=form.cleaned_data["to_status"],
            reason=form.cleaned_data["reason"],
            actor=self.request.user,
        )
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
            enrollment=enrollment, cpss_provider=cpss_provider, actor=self.request.user
        )
        return f"Enrollment in {enrollment.cm_program} is now with {cpss_provider}."


def _initial_enrollment(request) -> dict:
    initial = {"submission_key": new_submission_key()}
    provider = selectors.provider_of(request.user)
    if provider is not None and selectors.cpss_assignable().filter(pk=provider.pk).exists():
        initial["cpss_provider"] = provider.pk
    return initial


@access_required("cm_program.enroll_patient", "identity.add_patientcanonical")
class EnrollNewView(View):
    """Scenario 1 in two steps without JavaScript: details, then 'is this someone we know?'.

    The review step carries the details as hidden fields and the matcher runs again on confirm,
    so only a candidate it really proposed, and the user may see, can be chosen. A likely match
    on a caseload the user cannot see is only said to exist; a supervisor decides (H1).
    """

    template_name = "cm/enroll_new.html"

    def get(self, request):
        form = NewPatientEnrollmentForm(initial=_initial_enrollment(request))
        return render(request, self.template_name, {"form": form, "step": "details"})

    def post(self, request):
        if resent := _resent(request):
            return resent
        form = NewPatientEnrollmentForm(request.POST)
        action = request.POST.get("action", "check")
        if not form.is_valid() or action == "edit":
            return render(request, self.template_name, {"form": form, "step": "details"})
        data = form.cleaned_data
        found = selectors.enrollment_candidates(
            user=request.user,
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
            phone=data.get("phone"),
            email=data.get("email"),
        )
        if action == "request_review" and (match := found.hidden_match) is not None:
            return _queue_for_supervisor(
                request,
                data,
                **{k: data[k] for k in ("first_name", "last_name", "date_of_birth")},
                enrollment_source=data["enrollment_source"],
                possible_match=PatientCanonical.objects.get(pk=match.pk),
                match_score=match.score,
            )
        if action == "check" and (found.shown or found.hidden_match):
            return self._review(request, form, found)
        new_allowed = found.hidden_match is None
        choice = request.POST.get("person", "new" if not found.shown and new_allowed else "")
        chosen = {f"{c.source}:{c.pk}": c for c in found.shown}
        # A person the user may not see is not in `chosen`: refused like an unknown id.
        if choice not in chosen and not (choice == "new" and new_allowed):
            return self._review(request, form, found, error=True)
        same_person = same_iq = confidence = None
        if choice != "new":
            candidate = chosen[choice]
            if candidate.source == "canonical":
                same_person = PatientCanonical.objects.get(pk=candidate.pk)
            else:
                same_iq = selectors.intakeq_patient_for_enrollment(pk=candidate.pk)
                confidence = candidate.score
        try:
            result = services.cm_patient_enroll_new(
                actor=request.user,
                first_name=data["first_name"],
                last_name=data["last_name"],
                date_of_birth=data["date_of_birth"],
                cm_data=form.cm_data(),
                cm_program=data["cm_program"],
                cpss_provider=data["cpss_provider"],
                pod_assignment=data["pod_assignment"],
                notes=data["notes"],
                same_person=same_person,
                same_intakeq_patient=same_iq,
                intakeq_confidence=confidence,
                submission_key=data["submission_key"],
                # Scenario 1: "a new person" although the page offered candidates: queue them.
                declined_candidates=found.shown if choice == "new" else None,
            )
        except services.AlreadySubmitted as exc:
            return _already_submitted(request, exc)
        except ValidationError as exc:
            _add_service_errors(form, exc)
            return render(request, self.template_name, {"form": form, "step": "details"})
        return _after_enrollment(request, result)

    def _review(self, request, form, found, error=False):
        shown = [(f"{c.source}:{c.pk}", c) for c in found.shown]
        supervisor_views.record_candidates(request, found.shown)
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "step": "review",
                "candidates": shown,
                # Only that a match exists: no name, date of birth, score or program.
                "match_elsewhere": found.hidden_match is not None,
                "choice_error": error,
                "chosen": request.POST.get("person", ""),
            },
        )


def _queue_for_supervisor(request, data, **request_fields):
    """Queue the enrollment of a person in CM on a caseload the user cannot see (H1, M1)."""
    try:
        supervisor_requests.supervisor_request_create(
            actor=request.user,
            cm_program=data["cm_program"],
            cpss_provider=data["cpss_provider"],
            pod_assignment=data["pod_assignment"],
            submission_key=data["submission_key"],
            **request_fields,
        )
    except services.AlreadySubmitted as exc:
        return _already_submitted(request, exc)
    return supervisor_views.sent_to_supervisor(request)


@access_required(
    "cm_program.enroll_patient",
    "intakeq_link.search_intakeqpatient",
    "intakeq_link.add_patientintakeqlink",
)
class EnrollExistingView(View):
    """Scenario 2: search IntakeQ, pick the person, confirm the link and the CM details."""

    template_name = "cm/enroll_existing.html"

    def get(self, request):
        pk = request.GET.get("intakeq_patient")
        if pk:
            iq_patient = self._intakeq_patient(pk)
            initial = {
                **_initial_enrollment(request),
                "intakeq_patient": iq_patient.pk,
                "phone": iq_patient.phone or "",
                "email": iq_patient.email or "",
            }
            form = ExistingPatientEnrollmentForm(initial=initial)
            search = request.GET.copy()
            search.pop("intakeq_patient")
            return self._confirm(request, iq_patient, form, back_query=search.urlencode())
        search = ExistingPatientSearchForm(
            search_params(request, scope=EXISTING_SEARCH_SCOPE) or None
        )
        results = None
        if search.is_bound and search.is_valid():
            results = selectors.intakeq_patient_search(**search.cleaned_data)
            in_cm = selectors.intakeq_rows_in_cm(user=request.user, rows=results)
            for row in results:
                record_patient_view(request, patient_kind=PatientKind.INTAKEQ, patient_id=row.pk)
            results = [(r, in_cm.get(r.pk)) for r in results]
        return render(
            request,
            self.template_name,
            {
                "step": "search",
                "search": search,
                "results": results,
                "query": search_query(request),
            },
        )

    def post(self, request):
        if request.POST.get("step") == "search":  # names stay out of the URL (core.searches)
            return search_redirect(
                request, scope=EXISTING_SEARCH_SCOPE, fields=ExistingPatientSearchForm.base_fields
            )
        if resent := _resent(request):
            return resent
        form = ExistingPatientEnrollmentForm(request.POST)
        iq_patient = self._intakeq_patient(request.POST.get("intakeq_patient", ""))
        if not form.is_valid():
            return self._confirm(request, iq_patient, form)
        data = form.cleaned_data
        if request.POST.get("action") == "request_review":
            person = selectors.intakeq_person_in_cm_elsewhere(
                user=request.user, intakeq_patient=iq_patient
            )
            if person is None:  # nothing for a supervisor to decide
                return self._confirm(request, iq_patient, form)
            return _queue_for_supervisor(
                request, data, intakeq_patient=iq_patient, possible_match=person
            )
        confidence, _ = selectors.intakeq_link_confidence(intakeq_patient=iq_patient)
        try:
            result = services.cm_patient_enroll_existing(
                actor=request.user,
                intakeq_patient=iq_patient,
                confidence_score=confidence,
                cm_data=form.cm_data(),
                cm_program=data["cm_program"],
                cpss_provider=data["cpss_provider"],
                pod_assignment=data["pod_assignment"],
                notes=data["notes"],
                submission_key=data["submission_key"],
            )
        except services.AlreadySubmitted as exc:
            return _already_submitted(request, exc)
        except ValidationError as exc:
            _add_service_errors(form, exc)
            return self._confirm(request, iq_patient, form)
        return _after_enrollment(request, result)

    def _intakeq_patient(self, pk):
        try:
            iq_patient = selectors.intakeq_patient_for_enrollment(pk=pk)
        except ValidationError:  # not a UUID
            iq_patient = None
        if iq_patient is None:
            raise Http404("No such IntakeQ patient")
        return iq_patient

    def _confirm(self, request, iq_patient, form, back_query=""):
        confidence, reasons = selectors.intakeq_link_confidence(intakeq_patient=iq_patient)
        link = PatientIntakeQLink.objects.filter(intakeq_patient=iq_patient).first()
        elsewhere = (
            selectors.intakeq_person_in_cm_elsewhere(user=request.user, intakeq_patient=iq_patient)
            is not None
        )
        record_patient_view(request, patient_kind=PatientKind.INTAKEQ, patient_id=iq_patient.pk)
        enrolled_in = []
        if link and not elsewhere:
            enrolled_in = list(
                Enrollment.objects.visible_to(request.user)
                .filter(canonical_patient_id=link.canonical_patient_id)
                .values_list("cm_program__name", flat=True)
                .order_by("cm_program__name")
            )
            if enrolled_in:
                record_patient_view(
                    request,
                    patient_kind=PatientKind.CANONICAL,
                    patient_id=link.canonical_patient_id,
                )
        return render(
            request,
            self.template_name,
            {
                "step": "confirm",
                "iq": iq_patient,
                "form": form,
                "confidence": confidence,
                "confidence_pct": int(confidence * Decimal(100)),
                "reasons": reasons,
                "already_linked": link is not None,
                # Only that they are in the program elsewhere: no programs, no CM details.
                "in_cm_elsewhere": elsewhere,
                "enrolled_in": enrolled_in,
                "back": reverse("cm:enroll-existing") + (f"?{back_query}" if back_query else ""),
            },
        )
