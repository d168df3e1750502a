import contextlib
import datetime

from django.db.models import Q, QuerySet

from intakeq_link.models import IntakeQPatient, LinkProposal


def intakeq_patient_search(*, user, query: str = "") -> QuerySet[IntakeQPatient]:
    """IntakeQ's own patients visible to ``user``, filtered by name words, a date of birth
    (YYYY-MM-DD) or an IntakeQ client id. Never joins CM or link tables, so nothing in the
    result (rows, order, count) depends on whether someone is in the CM program."""
    patients = IntakeQPatient.objects.visible_to(user).from_intakeq()
    for word in query.split()[:5]:
        condition = (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(intakeq_client_id__iexact=word)
        )
        with contextlib.suppress(ValueError):
            condition |= Q(date_of_birth=datetime.date.fromisoformat(word))
        patients = patients.filter(condition)
    return patients.order_by("last_name", "first_name", "id")


def intakeq_patient_get(*, user, pk) -> IntakeQPatient | None:
    return intakeq_patient_search(user=user).filter(pk=pk).first()


def link_proposals_pending():
    """The review queue: pending proposals, best score first, with both people joined."""
    return (
        LinkProposal.objects.filter(status=LinkProposal.Status.PENDING)
        .select_related("canonical_patient", "intakeq_patient")
        .order_by("-score", "proposed_at")
    )
