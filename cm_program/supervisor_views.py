"""The supervisor's queue: requests waiting for a supervisor, and the page that decides one."""

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from access_log.recording import PatientKind, record_patient_view
from cm_program import selectors, supervisor_requests
from cm_program.drafts import draft_redirect, form_again
from cm_program.forms import SupervisorDecisionForm
from cm_program.models import SupervisorRequest
from identity.models import PatientCanonical
from staff.access import access_required

may_decide = access_required(supervisor_requests.DECIDE_PERMISSION)


def sent_to_supervisor(request):
    """Where a CPSS lands once their enrollment is queued for a supervisor."""
    messages.info(
        request,
        "Sent to a supervisor for review. Nothing is enrolled until they decide; "
        "contact, insurance and address details were not kept with the request.",
    )
    return redirect("cm:patient-list")


def record_candidates(request, candidates) -> None:
    """Log a view of every matcher candidate a page lists (by the table its id points into)."""
    for candidate in candidates:
        kind = PatientKind.CANONICAL if candidate.source == "canonical" else PatientKind.INTAKEQ
        record_patient_view(request, patient_kind=kind, patient_id=candidate.pk)


def _record(request, supervisor_request: SupervisorRequest) -> None:
    if supervisor_request.possible_match_id:
        record_patient_view(
            request,
            patient_kind=PatientKind.CANONICAL,
            patient_id=supervisor_request.possible_match_id,
        )
    if supervisor_request.intakeq_patient_id:
        record_patient_view(
            request,
            patient_kind=PatientKind.INTAKEQ,
            patient_id=supervisor_request.intakeq_patient_id,
        )


@may_decide
class SupervisorRequestListView(View):
    def get(self, request):
        pending = list(selectors.supervisor_requests_pending())
        for supervisor_request in pending:
            _record(request, supervisor_request)
        return render(request, "cm/supervisor_requests.html", {"pending": pending})


@may_decide
class SupervisorRequestDecideView(View):
    template_name = "cm/supervisor_request.html"

    def _page(self, request, request_id):
        supervisor_request = get_object_or_404(
            SupervisorRequest.objects.select_related(
                "requested_by",
                "cm_program",
                "cpss_provider",
                "intakeq_patient",
                "possible_match",
                "decided_by",
                "enrollment",
            ),
            pk=request_id,
        )
        return selectors.supervisor_request_page(
            user=request.user, supervisor_request=supervisor_request
        )

    def _choices(self, page):
        if page.request.kind == SupervisorRequest.Kind.REACTIVATION:
            return [
                (SupervisorDecisionForm.REACTIVATE, "Reactivate onto the CPSS chosen below"),
                (SupervisorDecisionForm.DECLINE, "Do not reactivate"),
            ]
        decline = (SupervisorDecisionForm.DECLINE, "Do not enroll")
        if page.request.intakeq_patient_id is not None:
            return [("intakeq", "Same person: enroll them"), decline]
        same = [(key, f"Same person: {c.first_name} {c.last_name}") for key, c in page.choices]
        new = (SupervisorDecisionForm.NEW_PERSON, "Different people: a new person, as typed")
        return [*same, new, decline]

    def _render(self, request, page, form):
        _record(request, page.request)
        record_candidates(request, [candidate for _, candidate in page.choices])
        return render(request, self.template_name, {"page": page, "form": form})

    def get(self, request, request_id):
        page = self._page(request, request_id)
        initial = {"cpss_provider": page.request.cpss_provider_id}
        form = form_again(
            request,
            scope=f"cm:supervisor-request:{request_id}",
            make_form=lambda data: SupervisorDecisionForm(
                data, initial=initial, choices=self._choices(page)
            ),
        )
        return self._render(request, page, form)

    def post(self, request, request_id):
        page = self._page(request, request_id)
        form = SupervisorDecisionForm(request.POST, choices=self._choices(page))
        scope = f"cm:supervisor-request:{request_id}"
        if not form.is_valid():  # every POST ends in a redirect (cm_program.drafts)
            return draft_redirect(request, scope=scope)
        try:
            decided = self._decide(request, page, form.cleaned_data)
        except ValidationError as exc:
            return draft_redirect(request, scope=scope, errors={NON_FIELD_ERRORS: exc.messages})
        messages.success(request, f"Decided: {decided.get_status_display().lower()}.")
        if decided.status != SupervisorRequest.Status.DECLINED and decided.enrollment_id:
            # On to the person just enrolled or reactivated, whom the supervisor now sees.
            return redirect(
                "cm:patient-detail", canonical_patient_id=decided.enrollment.canonical_patient_id
            )
        return redirect("cm:supervisor-requests")

    def _decide(self, request, page, data):
        common = {"supervisor_request": page.request, "actor": request.user, "note": data["note"]}
        decision = data["decision"]
        if decision == SupervisorDecisionForm.DECLINE:
            return supervisor_requests.supervisor_request_decline(**common)
        cpss = data["cpss_provider"]
        if decision == SupervisorDecisionForm.REACTIVATE:
            return supervisor_requests.supervisor_request_reactivate(cpss_provider=cpss, **common)
        if decision == SupervisorDecisionForm.NEW_PERSON:
            return supervisor_requests.supervisor_request_enroll_new_person(
                cpss_provider=cpss, **common
            )
        same_person = same_iq = confidence = None
        candidate = dict(page.choices).get(decision)
        if candidate is not None and candidate.source == "canonical":
            same_person = PatientCanonical.objects.get(pk=candidate.pk)
        elif candidate is not None:
            same_iq = selectors.intakeq_patient_for_enrollment(pk=candidate.pk)
            confidence = candidate.score
        return supervisor_requests.supervisor_request_enroll_same_person(
            cpss_provider=cpss,
            same_person=same_person,
            same_intakeq_patient=same_iq,
            intakeq_confidence=confidence,
            **common,
        )
