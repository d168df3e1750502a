"""What an 'already enrolled' error offers next (issue 12): the person's page when the user may
see them (and a supervisor's re-enrollment when they withdrew), else only whom to ask."""

from django import template
from django.urls import reverse

from cm_program import selectors
from cm_program.lifecycle import SUPERVISOR_PERMISSION
from cm_program.models import Enrollment, ParticipationStatus

register = template.Library()


@register.inclusion_tag("cm/_already_enrolled.html", takes_context=True)
def already_enrolled_help(context, error):
    user = context["request"].user
    patient_id = error.canonical_patient_id
    visible = selectors.canonical_patients_visible_to(user).filter(pk=patient_id).exists()
    if not visible:  # privacy (issue 11): no name, status or caseload
        return {"visible": False}
    enrollment = (
        Enrollment.objects.filter(canonical_patient_id=patient_id, cm_program=error.cm_program)
        .only("pk", "status")
        .first()
    )
    withdrawn = enrollment is not None and enrollment.status == ParticipationStatus.WITHDRAWN
    return {
        "visible": True,
        "patient_url": reverse("cm:patient-detail", kwargs={"canonical_patient_id": patient_id}),
        "withdrawn": withdrawn,
        "reactivate_url": reverse(
            "cm:enrollment-reactivate", kwargs={"enrollment_id": enrollment.pk}
        )
        if withdrawn and user.has_perm(SUPERVISOR_PERMISSION)
        else None,
    }
