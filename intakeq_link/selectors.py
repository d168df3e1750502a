from intakeq_link.models import LinkProposal


def link_proposals_pending():
    """The review queue: pending proposals, best score first, with both people joined."""
    return (
        LinkProposal.objects.filter(status=LinkProposal.Status.PENDING)
        .select_related("canonical_patient", "intakeq_patient")
        .order_by("-score", "proposed_at")
    )
