"""Psychiatry's pages: IntakeQ patients, read-only. They show nothing about the CM program."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from access_log.recording import PatientKind, record_patient_view, record_patients_viewed
from core.paginator import Paginator
from core.searches import search_params, search_query, search_redirect
from intakeq_link.forms import PatientSearchForm
from intakeq_link.selectors import intakeq_patient_get, intakeq_patient_search
from staff.access import access_required

# Psychiatry and Admin hold it; CPSS staff hold only search_intakeqpatient (for enrolling).
may_view_intakeq = access_required("intakeq_link.view_intakeqpatient")


SEARCH_SCOPE = "intakeq:patient-list"


@require_http_methods(["GET", "HEAD", "POST"])
@may_view_intakeq
def patient_list(request):
    """The search is posted and kept as a search id (core.searches), so names and dates of
    birth stay out of URLs. Logs every patient of the page shown."""
    if request.method == "POST":
        return search_redirect(request, scope=SEARCH_SCOPE, fields=["q"])
    form = PatientSearchForm(search_params(request, scope=SEARCH_SCOPE))
    patients = (
        intakeq_patient_search(user=request.user, query=form.cleaned_data["q"].strip())
        if form.is_valid()
        else []
    )
    page = Paginator(patients, 50).get_page(request.GET.get("page"))
    record_patients_viewed(
        request, patient_kind=PatientKind.INTAKEQ, patient_ids=[p.pk for p in page]
    )
    return render(
        request,
        "intakeq_link/patient_list.html",
        {"page": page, "form": form, "search": search_query(request)},
    )


@require_safe
@may_view_intakeq
def patient_detail(request, pk):
    patient = intakeq_patient_get(user=request.user, pk=pk)
    if patient is None:
        raise Http404
    record_patient_view(request, patient_kind=PatientKind.INTAKEQ, patient_id=patient.pk)
    return render(request, "intakeq_link/patient_detail.html", {"patient": patient})
