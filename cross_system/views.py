"""Admin-only pages across systems: one person everywhere, and who is in both CM and IntakeQ.

The data comes from identity's selectors; these views only check the role, log the view and
render it: the person's name as heading, a section per system with human labels, names instead
of ids, one date format (templates), printable (site/print.css).
"""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from access_log.recording import PatientKind, record_patient_view, record_patients_viewed
from core.safe_csv import SafeWriter
from identity.models import PatientCanonical
from identity.selectors import dual_enrollment_report as dual_enrollment_rows
from identity.selectors import get_complete_patient_view
from staff.access import access_required

DUAL_COLUMNS = [
    ("last_name", "Last name"),
    ("first_name", "First name"),
    ("date_of_birth", "Date of birth"),
    ("has_cm", "In CM"),
    ("has_intakeq", "In IntakeQ (Moonlit)"),
]


@require_safe
@access_required("identity.view_complete_patient_view", second_factor=True)
def complete_patient_view(request, pk):
    if not PatientCanonical.objects.visible_to(request.user).filter(pk=pk).exists():
        raise Http404
    view = get_complete_patient_view(pk)
    record_patient_view(request, patient_kind=PatientKind.CANONICAL, patient_id=pk)
    if view.intakeq is not None:
        # The page shows the IntakeQ record too: "who saw this IntakeQ patient" must find it,
        # also once the link is undone.
        record_patient_view(request, patient_kind=PatientKind.INTAKEQ, patient_id=view.intakeq.pk)
    link = view.intakeq_link
    return render(
        request,
        "cross_system/complete_patient_view.html",
        {
            "patient": view.identity,
            "cm": view.cm,
            "intakeq": view.intakeq,
            "link": link,
            # The one extra query: who confirmed the link (NULL for automatic links).
            "linked_by": link.linked_by_user if link is not None else None,
            "enrollments": view.enrollments,
        },
    )


def _report(request):
    report = dual_enrollment_rows(with_ids=True)
    record_patients_viewed(
        request, patient_kind=PatientKind.CANONICAL, patient_ids=[row["id"] for row in report]
    )
    return report


@require_safe
@access_required("identity.view_dual_enrollment_report", second_factor=True)
def dual_enrollment_report(request):
    return render(
        request,
        "cross_system/dual_enrollment_report.html",
        {"rows": _report(request), "columns": [label for _, label in DUAL_COLUMNS]},
    )


@require_safe
@access_required("identity.view_dual_enrollment_report", second_factor=True)
def dual_enrollment_report_csv(request):
    """The same rows as CSV, formula-safe (core.safe_csv), logged as a view like the page."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"dual-enrollment-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    writer = SafeWriter(response)
    writer.writerow([label for _, label in DUAL_COLUMNS])
    writer.writerows(
        [
            row["date_of_birth"].isoformat() if key == "date_of_birth" else row[key]
            for key, _ in DUAL_COLUMNS
        ]
        for row in _report(request)
    )
    return response
