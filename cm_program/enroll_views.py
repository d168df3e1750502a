"""The two enrollment flows. Every POST ends in a redirect (cm_program.drafts): the review and
summary steps are GET pages of a draft kept server-side, so the back button and reload redisplay
what was typed and never resubmit. Nothing is enrolled before a summary with an "Enroll" button.
"""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat
from django.utils.http import urlencode
from django.views import View

from access_log.recording import PatientKind, record_patient_view
from cm_program import selectors, services, supervisor_requests, supervisor_views
from cm_program.drafts import add_errors, draft_load, draft_redirect, errors_of
from cm_program.forms import (
    ExistingPatientEnrollmentForm,
    ExistingPatientSearchForm,
    NewPatientEnrollmentForm,
    new_submission_key,
)
from cm_program.models import Enrollment
from core.searches import search_params, search_query, search_redirect
from identity.evidence import reasons_in_words
from identity.matching import auto_link_min_score
from identity.models import PatientCanonical
from intakeq_link.models import PatientIntakeQLink
from staff.access import access_required

NEW_SCOPE = "cm:enroll-new"
EXISTING_SCOPE = "cm:enroll-existing:form"
EXISTING_SEARCH_SCOPE = "cm:enroll-existing"
CHOOSE_ERROR = "person"


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


def _initial_enrollment(request) -> dict:
    initial = {"submission_key": new_submission_key()}
    provider = selectors.provider_of(request.user)
    if provider is not None and selectors.cpss_assignable().filter(pk=provider.pk).exists():
        initial["cpss_provider"] = provider.pk
    return initial


def _summary(form) -> list[tuple[str, str]]:
    """What the user is about to enroll, in words: each filled-in visible field, as shown."""
    rows = []
    for bound in form:
        if bound.is_hidden:
            continue
        value = form.cleaned_data.get(bound.name)
        if value in (None, ""):
            continue
        if hasattr(value, "year"):
            value = dateformat.format(value, "M j, Y")
        elif isinstance(bound.field, forms.TypedChoiceField | forms.ChoiceField) and not hasattr(
            value, "pk"
        ):
            value = dict(bound.field.choices).get(value, value)
        rows.append((bound.label, str(value)))
    return rows


def _placement(data) -> dict:
    """Where an enrollment goes, as typed, and the form's one-time key."""
    keys = ("cm_program", "cpss_provider", "pod_assignment", "submission_key")
    return {key: data[key] for key in keys}


def _queue_for_supervisor(request, data, **request_fields):
    """Queue the enrollment of a person in CM on a caseload the user cannot see (H1, M1)."""
    try:
        supervisor_requests.supervisor_request_create(
            actor=request.user,
            **_placement(data),
            **request_fields,
        )
    except services.AlreadySubmitted as exc:
        return _already_submitted(request, exc)
    return supervisor_views.sent_to_supervisor(request)


@access_required("cm_program.enroll_patient", "identity.add_patientcanonical")
class EnrollNewView(View):
    """Scenario 1: details, then always a review step ("is this someone we know?" and what will
    be enrolled) whose only way forward is an explicit "Enroll" (or "Send to a supervisor").

    The matcher runs again on confirm, so only a candidate it really proposed, and the user may
    see, can be chosen. A likely match on a caseload the user cannot see is only said to exist; a
    supervisor decides (H1).
    """

    template_name = "cm/enroll_new.html"

    def get(self, request):
        draft = draft_load(request, scope=NEW_SCOPE)
        if draft is None:
            form = NewPatientEnrollmentForm(initial=_initial_enrollment(request))
            return render(request, self.template_name, {"form": form, "step": "details"})
        form = NewPatientEnrollmentForm(draft.data)
        valid = form.is_valid()
        if valid and request.GET.get("step") == "review":
            found = self._candidates(request, form.cleaned_data)
            return self._review(request, form, found, draft)
        add_errors(form, {k: v for k, v in draft.errors.items() if k != CHOOSE_ERROR})
        return render(request, self.template_name, {"form": form, "step": "details"})

    def post(self, request):
        if resent := _resent(request):
            return resent
        form = NewPatientEnrollmentForm(request.POST)
        action = request.POST.get("action", "check")
        if not form.is_valid() or action == "edit":
            return draft_redirect(request, scope=NEW_SCOPE)
        if action != "confirm" and action != "request_review":  # "Continue", Enter
            return draft_redirect(request, scope=NEW_SCOPE, step="review")
        data = form.cleaned_data
        found = self._candidates(request, data)
        if action == "request_review" and (match := found.hidden_match) is not None:
            return _queue_for_supervisor(
                request,
                data,
                **{k: data[k] for k in ("first_name", "last_name", "date_of_birth")},
                enrollment_source=data["enrollment_source"],
                possible_match=PatientCanonical.objects.get(pk=match.pk),
                match_score=match.score,
            )
        new_allowed = found.hidden_match is None
        choice = request.POST.get("person", "new" if not found.shown and new_allowed else "")
        chosen = {f"{c.source}:{c.pk}": c for c in found.shown}
        # A person the user may not see is not in `chosen`: refused like an unknown id.
        if action != "confirm" or (choice not in chosen and not (choice == "new" and new_allowed)):
            return draft_redirect(
                request, scope=NEW_SCOPE, errors={CHOOSE_ERROR: ["choose"]}, step="review"
            )
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
                **_placement(data),
                notes=data["notes"],
                same_person=same_person,
                same_intakeq_patient=same_iq,
                intakeq_confidence=confidence,
                # Scenario 1: "a new person" although the page offered candidates: queue them.
                declined_candidates=found.shown if choice == "new" else None,
            )
        except services.AlreadySubmitted as exc:
            return _already_submitted(request, exc)
        except ValidationError as exc:
            return draft_redirect(request, scope=NEW_SCOPE, errors=errors_of(exc))
        return _after_enrollment(request, result)

    def _candidates(self, request, data):
        return selectors.enrollment_candidates(
            user=request.user,
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
            phone=data.get("phone"),
            email=data.get("email"),
        )

    def _review(self, request, form, found, draft):
        supervisor_views.record_candidates(request, found.shown)
        facts = selectors.candidate_facts(user=request.user, candidates=found.shown)
        likely_min = auto_link_min_score()
        groups = {"likely": [], "possible": []}
        for candidate in found.shown:
            row = {
                "key": f"{candidate.source}:{candidate.pk}",
                "c": candidate,
                "reasons": reasons_in_words(candidate.reasons),
                "facts": facts[(candidate.source, candidate.pk)],
            }
            groups["likely" if candidate.score >= likely_min else "possible"].append(row)
        chosen = draft.data.get("person", "")
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "step": "review",
                "summary": _summary(form),
                "likely": groups["likely"],
                "possible": groups["possible"],
                "candidates": found.shown,
                # Only that a match exists: no name, date of birth, score or program.
                "match_elsewhere": found.hidden_match is not None,
                "choice_error": CHOOSE_ERROR in draft.errors,
                "chosen": chosen or ("new" if not found.shown and not found.hidden_match else ""),
            },
        )


@access_required(
    "cm_program.enroll_patient",
    "intakeq_link.search_intakeqpatient",
    "intakeq_link.add_patientintakeqlink",
)
class EnrollExistingView(View):
    """Scenario 2: search IntakeQ, pick the person, fill the CM details, then a summary whose
    "Link and enroll" button is the only way to enroll."""

    template_name = "cm/enroll_existing.html"

    def get(self, request):
        draft = draft_load(request, scope=EXISTING_SCOPE)
        if draft is not None:
            return self._from_draft(request, draft)
        pk = request.GET.get("intakeq_patient")
        if pk:
            iq_patient = self._intakeq_patient(pk)
            initial = {
                **_initial_enrollment(request),
                "intakeq_patient": iq_patient.pk,
                "phone": iq_patient.phone or "",
                "email": iq_patient.email or "",
                "back_search": request.GET.get("search", ""),
            }
            form = ExistingPatientEnrollmentForm(initial=initial)
            return self._confirm(request, iq_patient, form)
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

    def _from_draft(self, request, draft):
        form = ExistingPatientEnrollmentForm(draft.data)
        iq_patient = self._intakeq_patient(draft.data.get("intakeq_patient", ""))
        if form.is_valid() and request.GET.get("step") == "summary":
            return self._confirm(request, iq_patient, form, step="summary")
        add_errors(form, draft.errors)
        return self._confirm(request, iq_patient, form)

    def post(self, request):
        if request.POST.get("step") == "search":  # names stay out of the URL (core.searches)
            return search_redirect(
                request, scope=EXISTING_SEARCH_SCOPE, fields=ExistingPatientSearchForm.base_fields
            )
        if resent := _resent(request):
            return resent
        form = ExistingPatientEnrollmentForm(request.POST)
        iq_patient = self._intakeq_patient(request.POST.get("intakeq_patient", ""))
        action = request.POST.get("action", "check")
        if not form.is_valid() or action == "edit":
            return draft_redirect(request, scope=EXISTING_SCOPE)
        data = form.cleaned_data
        if action == "request_review":
            person = selectors.intakeq_person_in_cm_elsewhere(
                user=request.user, intakeq_patient=iq_patient
            )
            if person is None:  # nothing for a supervisor to decide
                return draft_redirect(request, scope=EXISTING_SCOPE)
            return _queue_for_supervisor(
                request, data, intakeq_patient=iq_patient, possible_match=person
            )
        if action != "enroll":  # "Continue", Enter: the summary first
            return draft_redirect(request, scope=EXISTING_SCOPE, step="summary")
        confidence, _ = selectors.intakeq_link_confidence(intakeq_patient=iq_patient)
        try:
            result = services.cm_patient_enroll_existing(
                actor=request.user,
                intakeq_patient=iq_patient,
                confidence_score=confidence,
                cm_data=form.cm_data(),
                **_placement(data),
                notes=data["notes"],
            )
        except services.AlreadySubmitted as exc:
            return _already_submitted(request, exc)
        except ValidationError as exc:
            return draft_redirect(request, scope=EXISTING_SCOPE, errors=errors_of(exc))
        return _after_enrollment(request, result)

    def _intakeq_patient(self, pk):
        try:
            iq_patient = selectors.intakeq_patient_for_enrollment(pk=pk)
        except ValidationError:  # not a UUID
            iq_patient = None
        if iq_patient is None:
            raise Http404("No such IntakeQ patient")
        return iq_patient

    def _confirm(self, request, iq_patient, form, step="confirm"):
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
        back_search = form["back_search"].value() or ""
        return render(
            request,
            self.template_name,
            {
                "step": step,
                "summary": _summary(form) if step == "summary" else [],
                "iq": iq_patient,
                "form": form,
                "confidence": confidence,
                "confidence_pct": int(confidence * Decimal(100)),
                "reasons": reasons_in_words(reasons),
                "already_linked": link is not None,
                # Only that they are in the program elsewhere: no programs, no CM details.
                "in_cm_elsewhere": elsewhere,
                "enrolled_in": enrolled_in,
                "back": reverse("cm:enroll-existing")
                + (f"?{urlencode({'search': back_search})}" if back_search else ""),
            },
        )
