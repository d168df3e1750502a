"""Admin-only pages across systems: one person everywhere, and who is in both CM and IntakeQ.

The data comes from identity's selectors; these views only check the role, log the view and
render whatever shape the selectors return (model instances, dicts, lists of either).
"""

from django.db import models
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from access_log.recording import PatientKind, record_patient_view, record_patients_viewed
from identity.models import PatientCanonical
from identity.selectors import dual_enrollment_report as dual_enrollment_rows
from identity.selectors import get_complete_patient_view
from staff.access import access_required


def _rows(value):
    """(label, value) pairs for a model instance or a mapping; other values as one row."""
    if isinstance(value, models.Model):
        return [(f.verbose_name, getattr(value, f.attname)) for f in value._meta.concrete_fields]
    if isinstance(value, dict):
        return list(value.items())
    return [("", value)]


def _sections(view):
    if isinstance(view, dict):
        items = view.items()
    else:
        items = ((name, getattr(view, name)) for name in vars(view) if not name.startswith("_"))
    sections = []
    for name, value in items:
        if isinstance(value, list | tuple | models.QuerySet):
            sections.extend((f"{name} {i + 1}", _rows(item)) for i, item in enumerate(value))
        else:
            sections.append((name, _rows(value) if value is not None else []))
    return sections


@require_safe
@access_required("identity.view_complete_patient_view", second_factor=True)
def complete_patient_view(request, pk):
    if not PatientCanonical.objects.visible_to(request.user).filter(pk=pk).exists():
        raise Http404
    view = get_complete_patient_view(pk)
    record_patient_view(request, patient_kind=PatientKind.CANONICAL, patient_id=pk)
    return render(
        request,
        "cross_system/complete_patient_view.html",
        {"patient_id": pk, "sections": _sections(view)},
    )


@require_safe
@access_required("identity.view_dual_enrollment_report", second_factor=True)
def dual_enrollment_report(request):
    report = dual_enrollment_rows(with_ids=True)
    record_patients_viewed(
        request, patient_kind=PatientKind.CANONICAL, patient_ids=[row.pop("id") for row in report]
    )
    rows = [_rows(row) for row in report]
    return render(request, "cross_system/dual_enrollment_report.html", {"rows": rows})
