from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from access_log.recording import PatientKind, record_patient_view
from access_log.selectors import patient_access_history
from audit.selectors import patient_change_history
from identity.models import PatientCanonical
from staff.access import access_required


@require_safe
@access_required("audit.view_patientcanonicalevent", second_factor=True)
def patient_history(request, pk):
    """Admins only: every recorded change to one person's rows and every view of their pages."""
    patient = get_object_or_404(PatientCanonical.objects.visible_to(request.user), pk=pk)
    # Reverse one-to-one accessors raise an AttributeError subclass when the row is absent.
    cm_record = getattr(patient, "cm_record", None)
    link = getattr(patient, "intakeq_link", None)
    record_patient_view(request, patient_kind=PatientKind.CANONICAL, patient_id=patient.pk)
    return render(
        request,
        "audit/patient_history.html",
        {
            "patient": patient,
            "changes": patient_change_history(canonical_patient_id=patient.pk, user=request.user),
            "views": patient_access_history(
                canonical_patient_id=patient.pk,
                cm_patient_ids=[cm_record.pk] if cm_record else [],
                intakeq_patient_ids=[link.intakeq_patient_id] if link else [],
            )[:500],
        },
    )
