"""What each role's home page shows: its work, not a list of links (issue 12, dead end 15).

A CPSS: their caseload by status and its alerts, and what became of their requests to a
supervisor. A supervisor: every CPSS's load against their
limit, the requests waiting for them, and the alerts for everyone. An admin: the review queues,
the dual-enrollment count and recent changes. Psychiatry: their search. A user with several roles
sees each part they hold.
"""

from access_log.recording import PatientKind
from cm_program.caseload import caseload_summary, recent_status_changes, requests_sent
from cm_program.models import sees_every_cm_patient
from cm_program.selectors import cpss_assignable, supervisor_requests_pending
from identity.models import DuplicateProposal
from identity.selectors import dual_enrollment_count
from intakeq_link.forms import PatientSearchForm
from intakeq_link.models import LinkProposal


def home_context(user) -> tuple[dict, dict[PatientKind, list]]:
    """The template context and, by kind, the ids of the people it names (for the view log)."""
    context = {}
    shown: list = []
    shown_intakeq: list = []
    if user.has_perm("cm_program.view_enrollment"):
        context["caseload"] = caseload_summary(user=user)
        context["caseload_is_everyone"] = sees_every_cm_patient(user)
        for alert in context["caseload"].alerts:
            shown.extend(e.canonical_patient_id for e in alert.enrollments)
    if user.has_perm("cm_program.enroll_patient"):
        # What became of the requests this user sent to a supervisor.
        sent = context["requests_sent"] = requests_sent(user=user)
        shown.extend(r.shown_patient_id for r in sent if r.shown_patient_id)
        # A request made from an IntakeQ record names that record's patient.
        shown_intakeq.extend(r.shown_intakeq_patient_id for r in sent if r.shown_intakeq_patient_id)
    if user.has_perm("cm_program.decide_supervisorrequest"):
        context["loads"] = list(cpss_assignable())
        context["requests_pending"] = supervisor_requests_pending().count()
    if user.has_perm("identity.view_dual_enrollment_report"):
        context["review"] = {
            "link_proposals": LinkProposal.objects.filter(
                status=LinkProposal.Status.PENDING
            ).count(),
            "duplicate_proposals": DuplicateProposal.objects.filter(
                status=DuplicateProposal.Status.PENDING
            ).count(),
            "dual_enrollment": dual_enrollment_count(),
        }
        context["recent_changes"] = recent_status_changes()
        shown.extend(c.enrollment.canonical_patient_id for c in context["recent_changes"])
    if user.has_perm("intakeq_link.view_intakeqpatient"):
        context["search_form"] = PatientSearchForm()
    return context, {PatientKind.CANONICAL: shown, PatientKind.INTAKEQ: shown_intakeq}
