"""Staff groups and what each may do. The names are a contract: tests and the admins use them.

Object-level scoping (a CPSS sees only their own caseload) is enforced by the querysets'
``visible_to(user)``; these are the model-level permissions behind it.
"""

CPSS = "CPSS"
CPSS_SUPERVISOR = "CPSS Supervisor"
PSYCHIATRY = "Psychiatry"
ADMIN = "Admin"

_CPSS_PERMISSIONS = [
    "cm_program.view_contingencymanagement",
    "cm_program.view_patientcm",
    "cm_program.add_patientcm",
    "cm_program.change_patientcm",
    "cm_program.view_enrollment",
    "cm_program.add_enrollment",
    "cm_program.change_enrollment",
    "cm_program.enroll_patient",
    "identity.view_patientcanonical",
    "identity.add_patientcanonical",
    # Scenario 2: find the existing Moonlit patient being enrolled, and link to them.
    "intakeq_link.search_intakeqpatient",
    "intakeq_link.add_patientintakeqlink",
]

GROUP_PERMISSIONS = {
    CPSS: _CPSS_PERMISSIONS,
    CPSS_SUPERVISOR: [
        *_CPSS_PERMISSIONS,
        "cm_program.view_all_cm_patients",
        "cm_program.reassign_cpss",
        # The queue of requests waiting for a supervisor (cm_program migration 0004 grants it to
        # groups that existed before).
        "cm_program.decide_supervisorrequest",
        # Each program's list of pods (cm_program migration 0008 grants it likewise).
        "cm_program.manage_pods",
        "providers.view_providercm",
        # Correct a name or date of birth on the patient page (cm_program migration 0007 grants
        # it to groups that existed before).
        "identity.change_patientcanonical",
    ],
    # The EMR side only: nothing that would tell them a patient is in the CM program.
    PSYCHIATRY: ["intakeq_link.view_intakeqpatient"],
    ADMIN: "__all__",
}


def grant_admin_group_new_permissions(sender, app_config, using="default", **kwargs):
    """post_migrate: the Admin group holds every permission, including apps installed later."""
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.using(using).filter(name=ADMIN).first()
    if group is None:
        return
    group.permissions.add(
        *Permission.objects.using(using).filter(content_type__app_label=app_config.label)
    )
