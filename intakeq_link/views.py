"""Psychiatry's pages: IntakeQ patients, read-only. They show nothing about the CM program."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from access_log.recording import PatientKind, record_patient_view
from intakeq_link.selectors import intakeq_patient_get, intakeq_patient_search
from staff.access import access_required

# Psychiatry and Admin hold it; CPSS staff hold only search_intakeqpatient (for enrolling).
may_view_intakeq = access_required("intakeq_link.view_intakeqpatient")


@require_safe
@may_view_intakeq
def patient_list(request):
    query = request.GET.get("q", "").strip()[:100]
    page = Paginator(intakeq_patient_search(user=request.user, query=query), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "intakeq_link/patient_list.html", {"page": page, "query": query})


@require_safe
@may_view_intakeq
def patient_detail(request, pk):
    patient = intakeq_patient_get(user=request.user, pk=pk)
    if patient is None:
        raise Http404
    record_patient_view(request, patient_kind=PatientKind.INTAKEQ, patient_id=patient.pk)
    return render(request, "intakeq_link/patient_detail.html", {"patient": patient})
